package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// closeStatus is how far the closer has got with one policy version.
type closeStatus struct {
	// Affected is, as of the latest scan, the conversations this version
	// closed before it plus those the scan found still to close.
	Affected int
	// Applied is set once both scans are done: every affected
	// conversation is closed.
	Applied  bool
	passes   int
	rescanAt time.Time
}

// closer tracks closing per policy version, and opt-outs waiting to be
// applied. Status lives in memory: after a restart the closer scans again,
// and the scan finds only what is left.
type closer struct {
	mu      sync.Mutex
	status  map[uint64]*closeStatus
	optOuts []optOut
}

// optOut is a withdrawn interoperability opt-in whose conversations are
// still to close.
type optOut struct {
	account events.Account
	seq     uint64 // the settings.changed event
	eventID string
}

func (c *closer) get(v uint64) closeStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.status[v]; ok {
		return *st
	}
	return closeStatus{}
}

func (c *closer) update(v uint64, f func(*closeStatus)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.status[v]
	if !ok {
		st = &closeStatus{}
		c.status[v] = st
	}
	f(st)
}

func (c *closer) addOptOut(o optOut) {
	c.mu.Lock()
	c.optOuts = append(c.optOuts, o)
	c.mu.Unlock()
}

func (c *closer) takeOptOuts() []optOut {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.optOuts
	c.optOuts = nil
	return o
}

// runScheduler wakes every PolicyCheckInterval, or at once after a publish
// or an opt-out, catches up with policies published elsewhere, and closes
// what the policy in force no longer allows. A policy whose effective_at is
// in the future is simply not in force yet; when the clock passes it, the
// next tick applies it, also after a restart.
func (s *Service) runScheduler(ctx context.Context) error {
	t := time.NewTicker(s.opts.PolicyCheckInterval)
	defer t.Stop()
	for {
		s.schedulerTick(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.kick:
		}
	}
}

func (s *Service) schedulerTick(ctx context.Context) {
	warn := func(what string, err error) {
		if err != nil && ctx.Err() == nil {
			s.opts.Logger.Warn(what, slog.Any("err", err))
		}
	}
	warn("refresh policies", s.refreshPolicies(ctx))
	warn("apply policy", s.applyDue(ctx))
	s.reportLag(ctx)
	for _, o := range s.closer.takeOptOuts() {
		if err := s.closeOptOut(ctx, o); err != nil {
			s.closer.addOptOut(o) // try again on the next tick
			warn("apply opt-out", err)
		}
	}
}

// applyDue runs the closer for the policy in force. It scans twice: once as
// soon as the policy takes effect, and again CloseGrace later, because a
// command decided just before the effective time may append just after the
// first scan.
func (s *Service) applyDue(ctx context.Context) error {
	p := s.policyAt(s.opts.Clock.Now())
	if p == nil {
		return nil
	}
	st := s.closer.get(p.Version)
	if st.Applied || (st.passes == 1 && time.Now().Before(st.rescanAt)) {
		return nil
	}
	closed, err := s.closeAffected(ctx, p)
	if err != nil {
		return err
	}
	s.closer.update(p.Version, func(st *closeStatus) {
		st.passes++
		st.rescanAt = time.Now().Add(s.opts.CloseGrace)
		st.Applied = st.passes >= 2
	})
	s.opts.Logger.Info("policy closer pass", slog.Uint64("policy_version", p.Version),
		slog.Int("closed", closed), slog.Int("pass", st.passes+1))
	return nil
}
