package service

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
)

// closeAffected waits until the read model has every event appended so far,
// then closes each open conversation that p does not let send, or whose
// participants p can no longer reach because an opt-in it requires is
// missing. It returns how many it closed.
func (s *Service) closeAffected(ctx context.Context, p *aggregate.Policy) (int, error) {
	if err := s.catchUpViews(ctx); err != nil {
		return 0, err
	}
	var denied, optIn []string
	err := s.views().OpenConversations(func(id string, apps []events.App) error {
		switch {
		case !p.AllowsAmong(apps, aggregate.ActionSend):
			denied = append(denied, id)
		case p.NeedsOptIn(apps):
			optIn = append(optIn, id)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	base, err := s.closedBy(p.Version)
	if err != nil {
		return 0, err
	}
	s.closer.update(p.Version, func(st *closeStatus) { st.Affected = base + len(denied) })
	causation := s.policies.Load().eventIDs[p.Version]
	return s.closeAll(ctx, append(denied, optIn...), p, causation)
}

// catchUpViews waits until the read model has applied the stream's last
// sequence, so that a scan of it misses nothing appended before.
func (s *Service) catchUpViews(ctx context.Context) error {
	last, err := s.log.LastSeq(ctx)
	if err != nil {
		return err
	}
	return s.views().WaitFor(ctx, last)
}

// closedBy counts the conversations policy version v has closed so far.
func (s *Service) closedBy(v uint64) (int, error) {
	views, err := s.views().Policies()
	if err != nil {
		return 0, err
	}
	for _, pv := range views {
		if pv.Version == v {
			return pv.Closed, nil
		}
	}
	return 0, nil
}

// closeAll closes ids. Unless the policy has opt-in links, each closing is
// decided from the views' head of the conversation and the appends go out
// Options.CloseRun at a time, pipelined (closeFromHeads); what that cannot settle
// goes through the command path like every closing under opt-in links,
// CloseConcurrency at a time.
func (s *Service) closeAll(ctx context.Context, ids []string, p *aggregate.Policy, causation string) (int, error) {
	closed, rest := 0, ids
	if log, ok := s.log.(batchAppender); ok && !p.HasOptInLinks() {
		var err error
		if closed, rest, err = s.closeFromHeads(ctx, log, ids, p, causation); err != nil {
			return closed, err
		}
	}
	n, err := s.closeEach(ctx, rest, p, causation)
	return closed + n, err
}

// closeEach closes ids through the command path, CloseConcurrency at a time.
func (s *Service) closeEach(ctx context.Context, ids []string, p *aggregate.Policy, causation string) (int, error) {
	var closed atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.CloseConcurrency)
	for _, id := range ids {
		g.Go(func() error {
			done, err := s.closeOne(gctx, id, p, causation)
			if done {
				closed.Add(1)
			}
			return err
		})
	}
	err := g.Wait()
	return int(closed.Load()), err
}

// closeOne appends conversation.closed to one conversation through the
// command path, if the conversation decides it is affected. The message id
// is derived from the causing event and the conversation, so a closer that
// runs twice (or on two instances) closes a conversation once.
func (s *Service) closeOne(ctx context.Context, id string, p *aggregate.Policy, causation string) (bool, error) {
	subject := events.ConversationSubject(id)
	e := s.convs.get(subject, func() state { return aggregate.NewConversation(id) })
	cmd := aggregate.Close{CommandID: causation, Policy: p}
	if p.HasOptInLinks() {
		view, err := s.views().Conversation(id)
		if err != nil {
			return false, err
		}
		parts := accounts(view.Participants)
		if p.NeedsOptIn(aggregate.AppsOf(parts)) {
			if cmd.OptedIn, err = s.optIns(ctx, parts); err != nil {
				return false, err
			}
		}
	}
	r, err := s.execute(ctx, e, cmd, causation+"/"+id)
	switch {
	case err == nil:
		return !r.Duplicate, nil
	case errors.Is(err, aggregate.ErrConversationClosed), errors.Is(err, aggregate.ErrNotAffected):
		return false, nil
	}
	return false, fmt.Errorf("close %s: %w", id, err)
}

// optIns reads each account's interoperability opt-in from its aggregate,
// the command side's truth (not the read model, which may lag).
func (s *Service) optIns(ctx context.Context, accounts []events.Account) (map[events.Account]bool, error) {
	out := make(map[events.Account]bool, len(accounts))
	for _, a := range accounts {
		e := s.accts.get(events.AccountSubject(a), func() state { return aggregate.NewAccount(a) })
		e.mu.Lock()
		var err error
		if !e.loaded {
			err = s.catchUp(ctx, e)
		}
		out[a] = e.state.(*aggregate.Account).InteropOptIn
		e.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// closeOptOut closes the open cross-app conversations of an account that
// withdrew its opt-in, where the policy in force relied on it.
func (s *Service) closeOptOut(ctx context.Context, o optOut) error {
	if err := s.views().WaitFor(ctx, o.seq); err != nil {
		return err
	}
	p := s.policyAt(s.opts.Clock.Now())
	var ids []string
	cursor := ""
	for {
		page, err := s.views().Inbox(o.account, 200, cursor)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			if it.CrossApp && !it.Closed {
				ids = append(ids, it.ConversationID)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	_, err := s.closeAll(ctx, ids, p, o.eventID)
	return err
}
