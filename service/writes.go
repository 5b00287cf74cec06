package service

import (
	"context"
	"errors"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/eventlog"
)

// write is one command on its aggregate as the write pipeline runs it
// (pipeline.Job): decided on the entry's state, appended with the entry's
// last sequence expected, settled into the entry, or caught up and decided
// again after a conflict, up to Options.MaxRetries. The command path
// writes one (executeBounded), an intake wave a round of them
// (appendRound). The caller holds the entry's lock.
type write struct {
	s *Service
	job
	msgID string
	// later leaves what a stored event spilled to keep (keep) for the
	// command's end, off the log's goroutine: keepDue says it is due.
	later, keepDue bool
	d              decided // its event, while it is being appended
	reply          api.CommandReply
	err            error
}

// Decide decides the command, or answers it (a refusal, a retry the
// aggregate remembers) without an append.
func (w *write) Decide(ctx context.Context) (eventlog.Entry, bool) {
	d, reply, done, err := w.s.decide(ctx, w.e, w.cmd)
	if done {
		w.reply, w.err = reply, err
		return eventlog.Entry{}, false
	}
	w.d = d
	return eventlog.Entry{Subject: w.e.subject, ExpectedSeq: w.e.state.Position().LastSeq, MsgID: w.msgID, Data: d.data}, true
}

// Settle makes r the command's answer, or catches up after a conflict
// and asks to go again while retries remain.
func (w *write) Settle(ctx context.Context, r eventlog.Result, attempt int) bool {
	w.reply, w.err = w.s.settleAppend(ctx, w.e, w.cmd, w.d, r)
	w.d = decided{}
	if r.Err == nil && !r.Duplicate && w.err == nil {
		w.kept(ctx)
	}
	if !errors.Is(w.err, eventlog.ErrConflict) {
		return false
	}
	w.err = w.s.retryConflict(ctx, w.e, attempt)
	return w.err == nil
}

// kept keeps what the stored event spilled now, or notes it for the
// command's end (later).
func (w *write) kept(ctx context.Context) {
	if !w.later {
		w.s.keep(ctx, w.e)
		return
	}
	w.keepDue = w.keepDue || w.s.keepDue(w.e)
}
