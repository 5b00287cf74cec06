package readmodel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// Rebuilds is where the read model is rebuilt online: a second store
// beside the live one, and the step that makes a rebuilt store the one a
// restart opens. Package node implements it on its data directory, so the
// directory names and the crash-safe swap on disk live there alone.
type Rebuilds interface {
	// Open opens an empty store for a rebuild.
	Open() (*projector.Store, error)
	// Commit is called once rebuilt has replaced old in the service: it
	// makes rebuilt the store a restart opens, and closes and removes old
	// (also when it fails).
	Commit(old, rebuilt *projector.Store) error
	// Discard closes and removes a rebuilt store that never replaced the
	// live one.
	Discard(rebuilt *projector.Store) error
}

// Errors of an online rebuild.
var (
	// ErrNoRebuilds reports a rebuild asked of a model built without
	// Options.Rebuilds, which has no place to rebuild into.
	ErrNoRebuilds = errors.New("this service has no place to rebuild its read model (service.Options.Rebuilds)")
	// ErrStopping reports a rebuild asked while the service shuts down.
	ErrStopping = errors.New("the service is stopping")
)

// rebuildState is the one online rebuild the model runs at a time, and
// the progress of the latest.
type rebuildState struct {
	mu       sync.Mutex
	progress *api.RebuildProgress // the latest rebuild's; nil before the first
	store    *projector.Store     // the store being rebuilt, nil when none runs
	stopped  bool                 // RunRebuilds has returned: start no more
	start    chan *projector.Store
}

// RebuildProgress is the latest online rebuild, with Applied read live
// from the store being rebuilt; nil when none ran since start.
func (m *Model) RebuildProgress() *api.RebuildProgress {
	r := &m.rebuild
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.progress == nil {
		return nil
	}
	p := *r.progress
	if r.store != nil {
		p.Applied = r.store.Checkpoint()
	}
	return &p
}

// StartRebuild opens the store to rebuild into and hands it to
// RunRebuilds, unless a rebuild runs already, which the reply then joins.
// It returns at once: the rebuild outlasts any request, so its progress is
// read from RebuildProgress.
func (m *Model) StartRebuild(ctx context.Context) (api.RebuildReply, error) {
	if m.opts.Rebuilds == nil {
		return api.RebuildReply{}, ErrNoRebuilds
	}
	r := &m.rebuild
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.stopped:
		return api.RebuildReply{}, ErrStopping
	case r.store != nil:
		p := *r.progress
		p.Applied = r.store.Checkpoint()
		return api.RebuildReply{Joined: true, Progress: p}, nil
	}
	target, err := m.LastSeq(ctx)
	if err != nil {
		return api.RebuildReply{}, err
	}
	st, err := m.opts.Rebuilds.Open()
	if err != nil {
		return api.RebuildReply{}, fmt.Errorf("open a store to rebuild into: %w", err)
	}
	r.store = st
	r.progress = &api.RebuildProgress{State: api.RebuildRunning, Target: target, StartedAt: time.Now().UTC()}
	r.start <- st // buffered: at most one runs, and RunRebuilds drains it when it stops
	m.opts.Logger.Info("views rebuild started", slog.Uint64("target_seq", target))
	return api.RebuildReply{Progress: *r.progress}, nil
}

// RunRebuilds runs each rebuild StartRebuild hands it until ctx is done. A
// rebuild interrupted by the shutdown is discarded: the live store was
// never replaced, and a restart opens it.
func (m *Model) RunRebuilds(ctx context.Context) error {
	for {
		select {
		case st := <-m.rebuild.start:
			m.runRebuild(ctx, st)
		case <-ctx.Done():
			m.rebuild.mu.Lock()
			m.rebuild.stopped = true
			m.rebuild.mu.Unlock()
			select {
			case st := <-m.rebuild.start:
				m.finishRebuild(st, errors.Join(ctx.Err(), m.opts.Rebuilds.Discard(st)))
			default:
			}
			return nil
		}
	}
}

// runRebuild catches st up with the log while the live store answers,
// swaps it in, and commits it on disk; on failure it discards st.
func (m *Model) runRebuild(ctx context.Context, st *projector.Store) {
	old, err := m.Swap(ctx, st)
	if err != nil {
		err = errors.Join(err, m.opts.Rebuilds.Discard(st))
	} else {
		err = m.opts.Rebuilds.Commit(old, st)
	}
	m.finishRebuild(st, err)
}

// finishRebuild records how the rebuild into st ended.
func (m *Model) finishRebuild(st *projector.Store, err error) {
	r := &m.rebuild
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now().UTC()
	r.store = nil
	r.progress.Applied, r.progress.FinishedAt = st.Checkpoint(), &now
	if err != nil {
		r.progress.State, r.progress.Error = api.RebuildFailed, err.Error()
		m.opts.Logger.Error("views rebuild failed", slog.Uint64("applied", r.progress.Applied), slog.Any("err", err))
		return
	}
	r.progress.State = api.RebuildDone
	m.opts.Logger.Info("views rebuild done: the rebuilt read model answers", slog.Uint64("applied", r.progress.Applied),
		slog.Duration("took", now.Sub(r.progress.StartedAt)))
}
