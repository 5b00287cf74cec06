package closer

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// closeFromHeads closes conversations from the views' heads of them: for
// each, participants and the sequence and hash of its last event (read for
// a whole run with one ascending scan) instead of every event loaded from
// the log and folded. The closer scans only after the views caught up with
// the stream, so a head is nearly always current; an append expects the
// head's sequence, so one that moved on since is refused and returned in
// rest, for the command path, which catches up from the log, the truth.
//
// The runs are pipelined: a reader decides run k+1 from the heads while
// run k's appends await their acknowledgements, so the closer's reads and
// decisions no longer sit between two runs on the critical path. The
// reader stays at most one run ahead (an unbuffered hand-over); runs hold
// distinct conversations, so deciding one ahead reads no head that the run
// in flight changes.
func (c *Closer) closeFromHeads(ctx context.Context, log Appender, ids []string, p *aggregate.Policy, causation string) (closed int, rest []string, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runs := make(chan headRun)
	var readErr error
	go func() {
		defer close(runs)
		readErr = c.decideRuns(ctx, ids, p, causation, runs)
	}()
	for run := range runs {
		if err != nil {
			continue // drain the run decided before the reader saw the cancel
		}
		n, conflicted, appendErr := c.appendClosings(ctx, log, run.entries, run.owners)
		closed, rest, err = closed+n, append(append(rest, run.rest...), conflicted...), appendErr
		if err != nil {
			cancel()
		}
	}
	if err = cmp.Or(err, readErr); err != nil {
		return closed, nil, err
	}
	return closed, rest, nil
}

// headRun is one run of closings decided from the heads, to append.
type headRun struct {
	entries []eventlog.Entry
	owners  []string // the conversation each entry closes
	rest    []string // the run's conversations the heads cannot settle
}

// decideRuns decides ids a run (Options.CloseRun) at a time and hands each
// run to runs, until ids are done, a read fails or ctx is done.
func (c *Closer) decideRuns(ctx context.Context, ids []string, p *aggregate.Policy, causation string, runs chan<- headRun) error {
	for len(ids) > 0 {
		n := min(c.opts.CloseRun, len(ids))
		run, err := c.decideRun(ids[:n], p, causation)
		if err != nil {
			return err
		}
		ids = ids[n:]
		select {
		case runs <- run:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// decideRun reads the heads of ids with one scan and decides each closing.
func (c *Closer) decideRun(ids []string, p *aggregate.Policy, causation string) (headRun, error) {
	run := headRun{entries: make([]eventlog.Entry, 0, len(ids)), owners: make([]string, 0, len(ids))}
	seen := make(map[string]bool, len(ids))
	err := c.views().ConversationHeads(ids, func(h projector.ConversationHead) error {
		seen[h.ConversationID] = true
		e, decided, err := c.headClosing(h, p, causation)
		switch {
		case !decided:
			run.rest = append(run.rest, h.ConversationID)
		case e != nil:
			run.entries, run.owners = append(run.entries, *e), append(run.owners, h.ConversationID)
		}
		return err
	})
	for _, id := range ids {
		if !seen[id] {
			run.rest = append(run.rest, id) // no record: let the command path say why
		}
	}
	return run, err
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
