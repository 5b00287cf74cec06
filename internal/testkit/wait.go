package testkit

import (
	"context"
	"testing"
	"time"
)

// applyTimeout bounds how long WaitApplied waits.
const applyTimeout = 5 * time.Second

// Applier is a read model that applies the log in order: projector.Store,
// named here by its methods so that testkit need not import projector.
type Applier interface {
	// WaitFor returns once the model has applied seq, or ctx's error.
	WaitFor(ctx context.Context, seq uint64) error
	// Checkpoint is the last sequence applied.
	Checkpoint() uint64
}

// WaitApplied waits until a has applied seq and fails the test if it has
// not within a few seconds.
func WaitApplied(t testing.TB, a Applier, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
	defer cancel()
	if err := a.WaitFor(ctx, seq); err != nil {
		t.Fatalf("seq %d not applied: %v (checkpoint %d)", seq, err, a.Checkpoint())
	}
}
