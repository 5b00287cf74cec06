package closer

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
func (c *Closer) closeAffected(ctx context.Context, p *aggregate.Policy) (int, error) {
	if err := c.catchUpViews(ctx); err != nil {
		return 0, err
	}
	var denied, optIn []string
	err := c.views().OpenConversations(func(id string, apps []events.App) error {
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
	base, err := c.closedBy(p.Version)
	if err != nil {
		return 0, err
	}
	c.update(p.Version, func(st *closeStatus) { st.Affected = base + len(denied) })
	causation := c.policies.EventID(p.Version)
	return c.closeAll(ctx, append(denied, optIn...), p, causation, true)
}

// catchUpViews waits until the read model has applied the stream's last
// sequence, so that a scan of it misses nothing appended before.
func (c *Closer) catchUpViews(ctx context.Context) error {
	last, err := c.log.LastSeq(ctx)
	if err != nil {
		return err
	}
	return c.views().WaitFor(ctx, last)
}

// closedBy counts the conversations policy version v has closed so far.
func (c *Closer) closedBy(v uint64) (int, error) {
	views, err := c.views().Policies()
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
// CloseConcurrency at a time. A fenced closing (a policy's, not an
// opt-out's) asks Options.Holding before each run and each closing, and
// stops with ErrNotHolding once the lease is lost.
func (c *Closer) closeAll(ctx context.Context, ids []string, p *aggregate.Policy, causation string, fenced bool) (int, error) {
	closed, rest := 0, ids
	if log, ok := c.log.(Appender); ok && !p.HasOptInLinks() {
		heads, poisoned, err := c.splitPoisoned(ids)
		if err != nil {
			return 0, err
		}
		if closed, rest, err = c.closeFromHeads(ctx, log, heads, p, causation, fenced); err != nil {
			return closed, err
		}
		rest = append(rest, poisoned...)
	}
	n, err := c.closeEach(ctx, rest, p, causation, fenced)
	return closed + n, err
}

// fence returns ErrNotHolding if fenced and this node no longer holds the
// closer's lease.
func (c *Closer) fence(fenced bool) error {
	if _, ok := c.opts.Holding(); fenced && !ok {
		return ErrNotHolding
	}
	return nil
}

// splitPoisoned sets apart the conversations whose subject holds a message
// the views skipped as poison. Their head does not count that message, so
// a closing decided from it would carry the wrong streamversion; the
// command path counts every message on the subject and closes them.
func (c *Closer) splitPoisoned(ids []string) (heads, poisoned []string, err error) {
	list, err := c.views().Poisoned()
	if err != nil || len(list) == 0 {
		return ids, nil, err
	}
	bad := make(map[string]bool, len(list))
	for _, p := range list {
		if kind, id := events.ClassifySubject(p.Subject); kind == events.SubjectConversation {
			bad[id] = true
		}
	}
	for _, id := range ids {
		if bad[id] {
			poisoned = append(poisoned, id)
		} else {
			heads = append(heads, id)
		}
	}
	return heads, poisoned, nil
}

// closeEach closes ids through the command path, CloseConcurrency at a time.
func (c *Closer) closeEach(ctx context.Context, ids []string, p *aggregate.Policy, causation string, fenced bool) (int, error) {
	var closed atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.CloseConcurrency)
	for _, id := range ids {
		g.Go(func() error {
			if err := c.fence(fenced); err != nil {
				return err
			}
			done, err := c.closeOne(gctx, id, p, causation)
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
func (c *Closer) closeOne(ctx context.Context, id string, p *aggregate.Policy, causation string) (bool, error) {
	cmd := aggregate.Close{CommandID: causation, Policy: p, Principal: c.opts.Principal}
	if p.HasOptInLinks() {
		view, err := c.views().Conversation(id)
		if err != nil {
			return false, err
		}
		parts := events.AccountsOf(view.Participants)
		if p.NeedsOptIn(events.AppsOf(parts)) {
			if cmd.OptedIn, err = c.commands.OptIns(ctx, parts); err != nil {
				return false, err
			}
		}
	}
	appended, err := c.commands.Close(ctx, id, cmd, causation+"/"+id)
	switch {
	case err == nil:
		return appended, nil
	case errors.Is(err, aggregate.ErrConversationClosed), errors.Is(err, aggregate.ErrNotAffected):
		return false, nil
	}
	return false, fmt.Errorf("close %s: %w", id, err)
}

// closeOptOut closes the open cross-app conversations of an account that
// withdrew its opt-in, where the policy in force relied on it.
func (c *Closer) closeOptOut(ctx context.Context, o OptOut) error {
	if err := c.views().WaitFor(ctx, o.Seq); err != nil {
		return err
	}
	p := c.policies.At(c.opts.Clock.Now())
	var ids []string
	cursor := ""
	for {
		page, err := c.views().Inbox(o.Account, 200, cursor)
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
	_, err := c.closeAll(ctx, ids, p, o.EventID, false)
	return err
}
