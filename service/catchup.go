package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/projector"
)

// Monotonic reads across restarts. The views' batches are not fsynced
// (projector.Options.SyncEveryBatch), so after a kill -9 the read model can
// be a few batches behind the log, and a query answered from it would show
// an older inbox than the client saw before the crash. So the service
// notes the stream's last sequence as it starts, and queries (all but the
// status) wait, up to ReadWait, until the read model has applied it, or
// answer 504 not_caught_up. Commands never wait: they read the log.

// noteStart records the stream's last sequence as of the start.
func (s *Service) noteStart(ctx context.Context) error {
	lasts, err := s.positions(ctx)
	if err != nil {
		return fmt.Errorf("the stream's last sequence at start: %w", err)
	}
	s.startSeqs = lasts
	s.startSeq.Store(sum(lasts))
	s.started.Store(true)
	return nil
}

// CaughtUpAtStart reports whether the read model has applied everything
// the stream held when Run started; false before Run. Readiness checks
// (/readyz) call it: until it holds, queries wait or answer not_caught_up.
func (s *Service) CaughtUpAtStart() bool {
	if s.caughtUp.Load() {
		return true
	}
	if !s.started.Load() || (s.hasViews() && !reached(s.views(), s.startSeqs)) {
		return false
	}
	s.caughtUp.Store(true) // once caught up, for good: the checkpoint only grows
	return true
}

// waitStart waits up to ReadWait until CaughtUpAtStart holds.
func (s *Service) waitStart(ctx context.Context) error {
	if s.CaughtUpAtStart() {
		return nil
	}
	target := s.startSeq.Load()
	wctx, cancel := context.WithTimeout(ctx, s.opts.ReadWait)
	defer cancel()
	err := s.views().WaitForAll(wctx, s.startSeqs)
	if err == nil || (errors.Is(err, projector.ErrClosed) && s.CaughtUpAtStart()) {
		s.caughtUp.Store(true)
		return nil
	}
	return fmt.Errorf("%w: the read model is catching up with the log after a restart: it has applied up to "+
		"seq %d of %d; retry shortly", ErrNotCaughtUp, s.views().Checkpoint(), target)
}
