// Package readmodel is the read model as the service sees it: the store
// the queries read now, its projection from the log (every stream of a
// partitioned one), the online rebuild that swaps a caught-up store in
// without stopping the queries, and the waits that make reads monotonic:
// a query's after or min_seq, and the log's end as of a restart.
package readmodel

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// Log is what the read model needs of the event log: its end, one
// message, and reading it in order (package eventlog).
type Log interface {
	// LastSeq is the stream's last sequence (0: empty).
	LastSeq(ctx context.Context) (uint64, error)
	// Get reads the message at seq.
	Get(ctx context.Context, seq uint64) (events.Message, error)
	// Read is what the store follows (projector.Source).
	projector.Source
}

// Options tune the read model. A zero field means its default.
type Options struct {
	// Logger receives the rebuilds' logs. Default: slog.Default().
	Logger *slog.Logger
	// ReadWait bounds how long a query waits for the views. Default: 2s.
	ReadWait time.Duration
	// Rebuilds is where an online rebuild rebuilds the read model.
	// Default: nil, and a rebuild is refused with ErrNoRebuilds.
	Rebuilds Rebuilds
}

// Model is the read model's lifecycle: the current store, its swap, the
// rebuild's progress and the waits. Build it with New and run it with Run
// and RunRebuilds.
type Model struct {
	log  Log
	opts Options
	// current is the store queries read now; Run replaces it on a swap.
	current atomic.Pointer[projector.Store]
	swaps   chan swapRequest
	// projecting is true while Run follows the log.
	projecting atomic.Bool
	rebuild    rebuildState
	start      startState
}

// New builds the read model of store (nil: none) on log. It refuses
// options that Options.Validate refuses.
func New(log Log, store *projector.Store, opts Options) (*Model, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ReadWait == 0 {
		opts.ReadWait = 2 * time.Second
	}
	m := &Model{log: log, opts: opts, swaps: make(chan swapRequest)}
	if store != nil {
		m.current.Store(store)
	}
	m.rebuild.start = make(chan *projector.Store, 1)
	return m, nil
}

// swapRequest asks the projection loop to replace the read model.
type swapRequest struct {
	store *projector.Store
	done  chan error
}

// Views returns the store that queries and the closer read now: after a
// Swap, the new one; nil for a model without one.
func (m *Model) Views() *projector.Store { return m.current.Load() }

// Projecting reports whether Run follows the log now.
func (m *Model) Projecting() bool { return m.projecting.Load() }

// Run follows the log into the current store until ctx is done, and
// replaces the store when Swap asks.
func (m *Model) Run(ctx context.Context) error {
	m.projecting.Store(true)
	defer m.projecting.Store(false)
	for {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func(st *projector.Store) { done <- m.follow(rctx, st) }(m.Views())
		select {
		case err := <-done:
			cancel()
			return err
		case req := <-m.swaps:
			err := m.catchUpRebuilt(ctx, req.store)
			cancel()
			runErr := <-done
			if err == nil { // the old store applies no more: its feeds move
				if err = req.store.TakeFeeds(m.Views()); err == nil {
					m.current.Store(req.store)
				}
			}
			req.done <- err
			if runErr != nil {
				return runErr
			}
		}
	}
}

// catchUpRebuilt follows the log into st until it has applied everything
// appended so far. The live store keeps answering meanwhile.
func (m *Model) catchUpRebuilt(ctx context.Context, st *projector.Store) error {
	lasts, err := m.Positions(ctx)
	if err != nil {
		return err
	}
	last := Sum(lasts)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.follow(rctx, st) }()
	err = st.WaitForAll(ctx, lasts)
	cancel()
	if runErr := <-done; runErr != nil {
		return runErr
	}
	if err != nil {
		return fmt.Errorf("rebuilt read model at seq %d of %d: %w", st.Checkpoint(), last, err)
	}
	return nil
}

// Swap replaces the store with rebuilt, which may be empty or part-built:
// it is first caught up with the log, while the current one keeps
// answering queries, and then takes over in one atomic step, so queries
// never stop. It returns the replaced store, which the caller closes
// (Close waits for queries still reading it). Run must be running.
func (m *Model) Swap(ctx context.Context, rebuilt *projector.Store) (*projector.Store, error) {
	old := m.Views()
	req := swapRequest{store: rebuilt, done: make(chan error, 1)}
	select {
	case m.swaps <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := <-req.done; err != nil {
		return nil, err
	}
	return old, nil
}
