package service

import (
	"context"
	"errors"

	"github.com/crosstalk-dev/crosstalk/aggregate"
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

// execute runs one command against the aggregate in e and waits for its
// answer (executeAsync): the policy closer's and the policy's writes.
func (s *Service) execute(ctx context.Context, e *entry, cmd aggregate.Command, msgID string) (api.CommandReply, error) {
	var r api.CommandReply
	var err error
	done := make(chan struct{})
	s.executeAsync(ctx, e, cmd, msgID, func(reply api.CommandReply, rerr error) {
		r, err = reply, rerr
		close(done)
	})
	<-done
	return r, err
}

// executeAsync runs one command against the aggregate in e: catch up,
// decide, append with the expected subject sequence, and on a conflict
// catch up and decide again, up to Options.MaxRetries times (the write
// pipeline's Go). msgID deduplicates the append in JetStream; the
// command's id finds an earlier reply in the aggregate. All of it,
// waiting for e's lock included, is bounded by Options.AppendTimeout (see
// failFast). It returns once the event is published, holding e's lock,
// which the settling of the append lets go before reply gets the answer.
func (s *Service) executeAsync(ctx context.Context, e *entry, cmd aggregate.Command, msgID string, reply commandReply) {
	bounded, cancel := s.appendBound(ctx)
	e.mu.Lock()
	e.begin()
	w := writes.Get().(*write)
	*w = write{s: s, job: job{e: e, cmd: cmd}, msgID: msgID, later: true}
	if err := s.loaded(bounded, e); err != nil {
		w.err = err
		s.finishWrite(bounded, cancel, w, reply)
		return
	}
	s.pipe.Go(bounded, w, func() {
		if w.keepDue {
			go s.finishWrite(bounded, cancel, w, reply) // keep writes: off the log's goroutine
			return
		}
		s.finishWrite(bounded, cancel, w, reply)
	})
}

// finishWrite ends w's command: its records and snapshot kept if due,
// its entry settled (a miss stays on probation, cache.go) and unlocked,
// then its answer given to reply.
func (s *Service) finishWrite(ctx context.Context, cancel context.CancelFunc, w *write, reply commandReply) {
	e := w.e
	if w.keepDue {
		s.keep(ctx, e)
	}
	r, err := w.reply, s.failFast(ctx, w.err)
	*w = write{}
	writes.Put(w)
	e.settle()
	e.mu.Unlock()
	cancel()
	reply(r, err)
}
