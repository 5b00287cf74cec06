package closer

import (
	"context"
	"errors"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/pipeline"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// closeFromHeads closes conversations from the views' heads of them: for
// each, participants and the sequence and hash of its last event (read
// for a whole run with one ascending scan) instead of every event loaded
// from the log and folded. The closer scans only after the views caught
// up with the stream, so a head is nearly always current; an append
// expects the head's sequence, so one that moved on since is refused and
// returned in rest, for the command path, which catches up from the log,
// the truth. Each run of Options.CloseRun is written through the write
// pipeline in one round (closing.Settle never asks for another).
func (c *Closer) closeFromHeads(ctx context.Context, log Appender, ids []string, p *aggregate.Policy, causation string, fenced bool) (closed int, rest []string, err error) {
	pipe := pipeline.New(log, nil)
	for len(ids) > 0 {
		if err := c.fence(fenced); err != nil {
			return closed, nil, err
		}
		run := ids[:min(c.opts.CloseRun, len(ids))]
		ids = ids[len(run):]
		jobs, missing, err := c.closings(run, p, causation)
		if err != nil {
			return closed, nil, err
		}
		pipe.WriteAll(ctx, jobs)
		n, unsettled, err := c.settled(jobs)
		closed, rest = closed+n, append(append(rest, missing...), unsettled...)
		if err != nil {
			return closed, nil, err
		}
	}
	return closed, rest, nil
}

// closings are the closing jobs of the conversations of run that have a
// head in the views, and missing those that have none (no record: the
// command path says why).
func (c *Closer) closings(run []string, p *aggregate.Policy, causation string) (jobs []pipeline.Job, missing []string, err error) {
	seen := make(map[string]bool, len(run))
	err = c.views().ConversationHeads(run, func(h projector.ConversationHead) error {
		seen[h.ConversationID] = true
		jobs = append(jobs, &closing{c: c, head: h, policy: p, causation: causation})
		return nil
	})
	for _, id := range run {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	return jobs, missing, err
}

// settled sorts the outcomes of a run's closings: closed (not counting
// duplicates, closed before by the same policy event), those left to the
// command path (undecided from the head, or conflicted), or the first
// other failure.
func (c *Closer) settled(jobs []pipeline.Job) (closed int, rest []string, err error) {
	for _, j := range jobs {
		k := j.(*closing)
		switch {
		case k.closed:
			closed++
		case k.toCommandPath:
			rest = append(rest, k.head.ConversationID)
		case k.err != nil && err == nil:
			err = k.err
		}
	}
	return closed, rest, err
}

// closing is one conversation's closing decided from its head, as the
// write pipeline runs it (pipeline.Job).
type closing struct {
	c         *Closer
	head      projector.ConversationHead
	policy    *aggregate.Policy
	causation string
	// the outcome: closed by this append, left to the command path, or
	// failed (err); none of them for a conversation closed already or not
	// affected.
	closed, toCommandPath bool
	err                   error
}

// Decide decides the closing from the head; nothing to append when the
// conversation is closed already or not affected, or when the head cannot
// tell (then the command path decides).
func (k *closing) Decide(context.Context) (eventlog.Entry, bool) {
	e, decided, err := k.c.headClosing(k.head, k.policy, k.causation)
	switch {
	case err != nil:
		k.err = err
	case !decided:
		k.toCommandPath = true
	case e != nil:
		return *e, true
	}
	return eventlog.Entry{}, false
}

// Settle records the append's outcome; a conflict goes to the command
// path, which catches up from the log, so no closing is tried again here.
func (k *closing) Settle(_ context.Context, r eventlog.Result, _ int) bool {
	switch {
	case r.Err == nil:
		k.c.commands.Forget(events.ConversationSubject(k.head.ConversationID)) // a cached state of it is now behind the log
		k.closed = !r.Duplicate
	case errors.Is(r.Err, eventlog.ErrConflict):
		k.toCommandPath = true
	default:
		k.err = fmt.Errorf("close %s: %w", k.head.ConversationID, r.Err)
	}
	return false
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
