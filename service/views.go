package service

import (
	"context"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/projector"
)

// swapRequest asks the projection loop to replace the read model.
type swapRequest struct {
	store *projector.Store
	done  chan error
}

// views returns the read model that queries and the closer use now.
func (s *Service) views() *projector.Store { return s.current.Load() }

// runViews follows the log into the current read model until ctx is done,
// and replaces the read model when SwapViews asks.
func (s *Service) runViews(ctx context.Context) error {
	s.projecting.Store(true)
	defer s.projecting.Store(false)
	for {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func(st *projector.Store) { done <- s.follow(rctx, st) }(s.views())
		select {
		case err := <-done:
			cancel()
			return err
		case req := <-s.swaps:
			err := s.catchUpRebuilt(ctx, req.store)
			cancel()
			runErr := <-done
			if err == nil { // the old store applies no more: its feeds move
				if err = req.store.TakeFeeds(s.views()); err == nil {
					s.current.Store(req.store)
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
func (s *Service) catchUpRebuilt(ctx context.Context, st *projector.Store) error {
	lasts, err := s.positions(ctx)
	if err != nil {
		return err
	}
	last := sum(lasts)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.follow(rctx, st) }()
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

// SwapViews replaces the read model with rebuilt, which may be empty or
// part-built: it is first caught up with the log, while the current one
// keeps answering queries, and then takes over in one atomic step, so
// queries never stop. It returns the replaced store, which the caller
// closes (Close waits for queries still reading it).
func (s *Service) SwapViews(ctx context.Context, rebuilt *projector.Store) (*projector.Store, error) {
	old := s.views()
	req := swapRequest{store: rebuilt, done: make(chan error, 1)}
	select {
	case s.swaps <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := <-req.done; err != nil {
		return nil, err
	}
	return old, nil
}

// Views returns the read model the service answers from now: after a
// SwapViews, the new one.
func (s *Service) Views() *projector.Store { return s.views() }
