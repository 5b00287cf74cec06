package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// Rebuilds is where the service rebuilds its read model online: a second
// store beside the live one, and the step that makes a rebuilt store the
// one a restart opens. Package node implements it on its data directory, so
// the directory names and the crash-safe swap on disk live there alone.
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
	// ErrNoRebuilds reports a rebuild asked of a service built without
	// Options.Rebuilds, which has no place to rebuild into.
	ErrNoRebuilds = errors.New("this service has no place to rebuild its read model (service.Options.Rebuilds)")
	// ErrStopping reports a rebuild asked while the service shuts down.
	ErrStopping = errors.New("the service is stopping")
)

// rebuildState is the one online rebuild the service runs at a time, and
// the progress of the latest.
type rebuildState struct {
	mu       sync.Mutex
	progress *api.RebuildProgress // the latest rebuild's; nil before the first
	store    *projector.Store     // the store being rebuilt, nil when none runs
	stopped  bool                 // runRebuilds has returned: start no more
	start    chan *projector.Store
}

// snapshot is the latest rebuild's progress, with Applied read live from
// the store being rebuilt; nil when there was none.
func (r *rebuildState) snapshot() *api.RebuildProgress {
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

// rebuildViews answers crosstalk.admin.views.rebuild, for admins only. It
// starts a rebuild, or joins the one running, and replies at once: the
// rebuild outlasts any request, so its progress is read from the status.
func (s *Service) rebuildViews(ctx context.Context, p identity.Principal, body []byte) (any, error) {
	if err := p.MayAdmin(); err != nil {
		return nil, err
	}
	var req api.RebuildViews
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	if !s.hasViews() {
		return nil, fmt.Errorf("%w: node %s has the roles %s; ask crosstalk.admin.views.rebuild, or a node with the queries role",
			ErrNoViews, s.opts.NodeID, strings.Join(s.opts.Roles, ","))
	}
	if s.opts.Rebuilds == nil {
		return nil, ErrNoRebuilds
	}
	return s.startRebuild(ctx)
}

// startRebuild opens the store to rebuild into and hands it to runRebuilds,
// unless a rebuild runs already.
func (s *Service) startRebuild(ctx context.Context) (api.RebuildReply, error) {
	r := &s.rebuild
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
	target, err := s.lastSeq(ctx)
	if err != nil {
		return api.RebuildReply{}, err
	}
	st, err := s.opts.Rebuilds.Open()
	if err != nil {
		return api.RebuildReply{}, fmt.Errorf("open a store to rebuild into: %w", err)
	}
	r.store = st
	r.progress = &api.RebuildProgress{State: api.RebuildRunning, Target: target, StartedAt: time.Now().UTC()}
	r.start <- st // buffered: at most one runs, and runRebuilds drains it when it stops
	s.opts.Logger.Info("views rebuild started", slog.Uint64("target_seq", target))
	return api.RebuildReply{Progress: *r.progress}, nil
}

// runRebuilds runs each rebuild startRebuild hands it until ctx is done. A
// rebuild interrupted by the shutdown is discarded: the live store was
// never replaced, and a restart opens it.
func (s *Service) runRebuilds(ctx context.Context) error {
	for {
		select {
		case st := <-s.rebuild.start:
			s.runRebuild(ctx, st)
		case <-ctx.Done():
			s.rebuild.mu.Lock()
			s.rebuild.stopped = true
			s.rebuild.mu.Unlock()
			select {
			case st := <-s.rebuild.start:
				s.finishRebuild(st, errors.Join(ctx.Err(), s.opts.Rebuilds.Discard(st)))
			default:
			}
			return nil
		}
	}
}

// runRebuild catches st up with the log while the live store answers,
// swaps it in, and commits it on disk; on failure it discards st.
func (s *Service) runRebuild(ctx context.Context, st *projector.Store) {
	old, err := s.SwapViews(ctx, st)
	if err != nil {
		err = errors.Join(err, s.opts.Rebuilds.Discard(st))
	} else {
		err = s.opts.Rebuilds.Commit(old, st)
	}
	s.finishRebuild(st, err)
}

// finishRebuild records how the rebuild into st ended.
func (s *Service) finishRebuild(st *projector.Store, err error) {
	r := &s.rebuild
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now().UTC()
	r.store = nil
	r.progress.Applied, r.progress.FinishedAt = st.Checkpoint(), &now
	if err != nil {
		r.progress.State, r.progress.Error = api.RebuildFailed, err.Error()
		s.opts.Logger.Error("views rebuild failed", slog.Uint64("applied", r.progress.Applied), slog.Any("err", err))
		return
	}
	r.progress.State = api.RebuildDone
	s.opts.Logger.Info("views rebuild done: the rebuilt read model answers", slog.Uint64("applied", r.progress.Applied),
		slog.Duration("took", now.Sub(r.progress.StartedAt)))
}

// RebuildProgress is the latest online rebuild of the read model, as
// crosstalk.query.status shows it; ok is false when none ran since start.
func (s *Service) RebuildProgress() (p api.RebuildProgress, ok bool) {
	if r := s.rebuild.snapshot(); r != nil {
		return *r, true
	}
	return api.RebuildProgress{}, false
}
