package intake

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// A holder that loses its lease in the middle of a batch decides nothing
// more of it, and leaves the rest unacknowledged: the next holder decides
// it, in intake order, each command once.
func TestDeposedHolderStopsMidBatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	js := natstest.Start(t).JetStream(t)
	var held atomic.Bool
	held.Store(true)
	opts := Options{Apps: []string{"app1"}, Batch: 16, RetryDelay: 50 * time.Millisecond, Logger: testkit.Quiet(),
		Holding: func() (uint64, bool) { return 1, held.Load() }}
	in, err := Open(ctx, js, opts)
	if err != nil {
		t.Fatal(err)
	}
	ids := publishConversation(ctx, t, js, "app1", 40)
	// One conversation: a batch of 16 is 16 waves of one command each.
	d := &orderDecider{onWave: func(n int64) {
		if n == 2 {
			held.Store(false) // lost while the second wave is decided
		}
	}}
	first, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- in.Consumer(d).Run(first) }()
	for d.waves.Load() < 2 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // what a deposed holder would decide, it would decide now
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := d.snapshot(); !slices.Equal(got, ids[:2]) {
		t.Fatalf("the deposed holder decided %v, want only the two waves begun before it lost the lease: %v", got, ids[:2])
	}

	held.Store(true)
	if got := runUntilDecided(ctx, t, in.Consumer(d), d, len(ids)); !slices.Equal(got, ids) {
		t.Errorf("decided %v,\nwant each once, in intake order %v", got, ids)
	}
}
