package closer

import (
	"context"
	"errors"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// closeFromHeads closes conversations from the views' heads of them: for
// each, participants and the sequence and hash of its last event (read
// for a whole run with one ascending scan) instead of every event loaded from the log and folded. The
// closer scans only after the views caught up with the stream, so a head is
// nearly always current; an append expects the head's sequence, so one that
// moved on since is refused and returned in rest, for the command path,
// which catches up from the log, the truth.
func (c *Closer) closeFromHeads(ctx context.Context, log Appender, ids []string, p *aggregate.Policy, causation string, fenced bool) (closed int, rest []string, err error) {
	for len(ids) > 0 {
		if err := c.fence(fenced); err != nil {
			return closed, nil, err
		}
		run := ids[:min(c.opts.CloseRun, len(ids))]
		ids = ids[len(run):]
		entries, owners := make([]eventlog.Entry, 0, len(run)), make([]string, 0, len(run))
		seen := make(map[string]bool, len(run))
		err := c.views().ConversationHeads(run, func(h projector.ConversationHead) error {
			seen[h.ConversationID] = true
			e, decided, err := c.headClosing(h, p, causation)
			switch {
			case !decided:
				rest = append(rest, h.ConversationID)
			case e != nil:
				entries, owners = append(entries, *e), append(owners, h.ConversationID)
			}
			return err
		})
		if err != nil {
			return closed, nil, err
		}
		for _, id := range run {
			if !seen[id] {
				rest = append(rest, id) // no record: let the command path say why
			}
		}
		n, conflicted, err := c.appendClosings(ctx, log, entries, owners)
		closed, rest = closed+n, append(rest, conflicted...)
		if err != nil {
			return closed, nil, err
		}
	}
	return closed, rest, nil
}

// headClosing decides the closing of a conversation from its head: the
// entry to append, nil if the conversation is closed already or not
// affected (what the views say of these never changes back), or decided
// false if the head cannot tell.
func (c *Closer) headClosing(h projector.ConversationHead, p *aggregate.Policy, causation string) (e *eventlog.Entry, decided bool, err error) {
	if h.LastSeq == 0 {
		return nil, false, nil
	}
	id := h.ConversationID
	pos := aggregate.Stream{Version: h.Version, LastSeq: h.LastSeq, LastHash: h.LastHash}
	conv := aggregate.ClosingState(id, h.Participants, h.Closed, pos)
	ev, err := conv.Decide(aggregate.Close{CommandID: causation, Policy: p, Principal: c.opts.Principal}, p, c.opts.Clock.Now())
	switch {
	case errors.Is(err, aggregate.ErrConversationClosed), errors.Is(err, aggregate.ErrNotAffected):
		return nil, true, nil
	case err != nil:
		return nil, false, nil
	}
	data, err := events.Encode(ev)
	if err != nil {
		return nil, false, err
	}
	subject := events.ConversationSubject(id)
	return &eventlog.Entry{Subject: subject, ExpectedSeq: h.LastSeq, MsgID: causation + "/" + id, Data: data}, true, nil
}

// appendClosings appends one run and sorts the outcomes: closed (not
// counting duplicates, closed before by the same policy event), conflicted
// (for the command path), or the first other failure.
func (c *Closer) appendClosings(ctx context.Context, log Appender, entries []eventlog.Entry, owners []string) (closed int, conflicted []string, err error) {
	for i, r := range log.AppendAll(ctx, entries) {
		switch {
		case r.Err == nil:
			c.commands.Forget(entries[i].Subject) // a cached state of it is now behind the log
			if !r.Duplicate {
				closed++
			}
		case errors.Is(r.Err, eventlog.ErrConflict):
			conflicted = append(conflicted, owners[i])
		case err == nil:
			err = fmt.Errorf("close %s: %w", owners[i], r.Err)
		}
	}
	return closed, conflicted, err
}
