package service

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
)

// closeStatus is how far the closer has got with one policy version.
type closeStatus struct {
	Affected int  // conversations found that the version no longer allows
	Closed   int  // of those, closed by this process (or already closed)
	Applied  bool // both scans done: every affected conversation is closed
	passes   int
	rescanAt time.Time
}

// closer tracks closing per policy version. Status lives in memory: after a
// restart the closer scans again, and the scan finds only what is left.
type closer struct {
	mu     sync.Mutex
	status map[uint64]*closeStatus
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

// runScheduler wakes every PolicyCheckInterval, or at once after a publish,
// catches up with policies published elsewhere, and closes what the policy
// in force no longer allows. A policy whose effective_at is in the future is
// simply not in force yet; when the clock passes it, the next tick applies
// it, also after a restart.
func (s *Service) runScheduler(ctx context.Context) error {
	t := time.NewTicker(s.opts.PolicyCheckInterval)
	defer t.Stop()
	for {
		if err := s.refreshPolicies(ctx); err != nil && ctx.Err() == nil {
			s.opts.Logger.Warn("refresh policies", slog.Any("err", err))
		}
		if err := s.applyDue(ctx); err != nil && ctx.Err() == nil {
			s.opts.Logger.Warn("apply policy", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.kick:
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
	affected, closed, err := s.closeAffected(ctx, p)
	if err != nil {
		return err
	}
	s.closer.update(p.Version, func(st *closeStatus) {
		st.passes++
		st.Affected += affected
		st.Closed += closed
		st.rescanAt = time.Now().Add(s.opts.CloseGrace)
		st.Applied = st.passes >= 2
	})
	s.opts.Logger.Info("policy closer pass", slog.Uint64("policy_version", p.Version),
		slog.Int("affected", affected), slog.Int("closed", closed), slog.Int("pass", st.passes+1))
	return nil
}

// closeAffected waits until the read model has every event appended so far,
// then closes each open conversation that p does not let send.
func (s *Service) closeAffected(ctx context.Context, p *aggregate.Policy) (affected, closed int, err error) {
	last, err := s.log.LastSeq(ctx)
	if err != nil {
		return 0, 0, err
	}
	if err := s.store.WaitFor(ctx, last); err != nil {
		return 0, 0, err
	}
	var ids []string
	err = s.store.OpenConversations(func(id string, apps []events.App) error {
		if !p.AllowsAmong(apps, aggregate.ActionSend) {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	causation := s.policies.Load().eventIDs[p.Version]
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.CloseConcurrency)
	for _, id := range ids {
		g.Go(func() error {
			done, err := s.closeOne(gctx, id, p, causation)
			if done {
				mu.Lock()
				closed++
				mu.Unlock()
			}
			return err
		})
	}
	return len(ids), closed, g.Wait()
}

// closeOne appends conversation.closed to one conversation through the
// command path. The message id is derived from the policy event and the
// conversation, so a closer that runs twice (or on two instances) closes a
// conversation once.
func (s *Service) closeOne(ctx context.Context, id string, p *aggregate.Policy, causation string) (bool, error) {
	subject := events.ConversationSubject(id)
	e := s.convs.get(subject, func() state { return aggregate.NewConversation(id) })
	cmd := aggregate.Close{CommandID: causation, Policy: p, Reason: events.ClosedByPolicy}
	_, err := s.execute(ctx, e, cmd, causation, causation+"/"+id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, aggregate.ErrConversationClosed), errors.Is(err, aggregate.ErrNotAffected):
		return false, nil
	}
	return false, err
}
