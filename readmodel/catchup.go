package readmodel

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/crosstalk-dev/crosstalk/projector"
)

// Monotonic reads across restarts. The views' batches are not fsynced
// (projector.Options.SyncEveryBatch), so after a kill -9 the read model can
// be a few batches behind the log, and a query answered from it would show
// an older inbox than the client saw before the crash. So the service
// notes the stream's last sequence as it starts (NoteStart), and queries
// (all but the status) wait, up to ReadWait, until the read model has
// applied it, or answer 504 not_caught_up. Commands never wait: they read
// the log.

// ErrNotCaughtUp reports a query whose position the read model did not
// reach within ReadWait.
var ErrNotCaughtUp = errors.New("read model not caught up")

// startState is the log's end as of the start, and whether the views
// have applied it.
type startState struct {
	// seq is the stream's last sequence (the sum on a partitioned log),
	// set once started is.
	seq atomic.Uint64
	// seqs is each stream's last sequence, set before started.
	seqs     []uint64
	started  atomic.Bool
	caughtUp atomic.Bool // once set, for good: the checkpoint only grows
}

// NoteStart records the stream's last sequence as of the start; call it
// once, before the queries are answered.
func (m *Model) NoteStart(ctx context.Context) error {
	lasts, err := m.Positions(ctx)
	if err != nil {
		return fmt.Errorf("the stream's last sequence at start: %w", err)
	}
	m.start.seqs = lasts
	m.start.seq.Store(Sum(lasts))
	m.start.started.Store(true)
	return nil
}

// StartSeq is the log's last sequence NoteStart recorded (the sum of the
// streams' on a partitioned log); 0 before it.
func (m *Model) StartSeq() uint64 { return m.start.seq.Load() }

// CaughtUpAtStart reports whether the read model has applied everything
// the log held at NoteStart; false before it. Readiness checks (/readyz)
// call it: until it holds, queries wait or answer not_caught_up.
func (m *Model) CaughtUpAtStart() bool {
	if m.start.caughtUp.Load() {
		return true
	}
	if !m.start.started.Load() || (m.Views() != nil && !Reached(m.Views(), m.start.seqs)) {
		return false
	}
	m.start.caughtUp.Store(true)
	return true
}

// WaitStart waits up to ReadWait until CaughtUpAtStart holds.
func (m *Model) WaitStart(ctx context.Context) error {
	if m.CaughtUpAtStart() {
		return nil
	}
	target := m.start.seq.Load()
	wctx, cancel := context.WithTimeout(ctx, m.opts.ReadWait)
	defer cancel()
	err := m.Views().WaitForAll(wctx, m.start.seqs)
	if err == nil || (errors.Is(err, projector.ErrClosed) && m.CaughtUpAtStart()) {
		m.start.caughtUp.Store(true)
		return nil
	}
	return fmt.Errorf("%w: the read model is catching up with the log after a restart: it has applied up to "+
		"seq %d of %d; retry shortly", ErrNotCaughtUp, m.Views().Checkpoint(), target)
}
