package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/closer"
	"github.com/crosstalk-dev/crosstalk/codec"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/policybook"
	"github.com/crosstalk-dev/crosstalk/rpc"
)

// errAppendTimeout is the cause of an execute's bound expiring.
var errAppendTimeout = errors.New("append timeout")

// appendBound bounds ctx by Options.AppendTimeout, with errAppendTimeout
// as the cause, or returns ctx itself when its deadline comes no later:
// a command endpoint's context (requestContext) is bounded so already,
// and a second context would cost a command a second timer, a cancel
// context registered with its parent and their allocations for nothing.
// A parent that ends first gives its own cause either way.
func (s *Service) appendBound(ctx context.Context) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= s.opts.AppendTimeout+rpc.DeadlineGrain(s.opts.AppendTimeout) {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, s.opts.AppendTimeout, errAppendTimeout)
}

// requestContext is the context of one request of kind, under parent (the
// same for every request: see deadlines). A command from a command
// endpoint is bounded by Options.AppendTimeout from the moment the service
// takes it up, with errAppendTimeout as the cause, when that is shorter
// than CommandTimeout: what it waits for is the log (the policy's leader
// read, its aggregate's load, the append), and its one deadline then
// serves execute as well (appendBound). Every other request is bounded by
// CommandTimeout. The deadlines are shared by the requests of one grain
// (rpc.Deadlines), so the cancel returned does nothing.
func (s *Service) requestContext(parent context.Context, kind string) (context.Context, context.CancelFunc) {
	if kind == kindCommand && s.opts.AppendTimeout < s.opts.CommandTimeout {
		return s.commandDeadlines.Context(parent, s.opts.AppendTimeout, errAppendTimeout), func() {}
	}
	return s.requestDeadlines.Context(parent, s.opts.CommandTimeout, nil), func() {}
}

// failFast turns err into ErrUnavailable, with the sentence a producer
// needs, when the log did not answer within the bound of ctx: a stream
// whose leader died under the append would otherwise hold the command for
// the whole CommandTimeout, and the producer could not tell it from a
// refusal worth giving up on.
func (s *Service) failFast(ctx context.Context, err error) error {
	if errors.As(err, new(unavailableError)) {
		return err // execute's, said once
	}
	timedOut := errors.Is(err, context.DeadlineExceeded) && errors.Is(context.Cause(ctx), errAppendTimeout)
	if err == nil || !timedOut && !errors.Is(err, eventlog.ErrUnavailable) {
		return err
	}
	return unavailableError{cause: err, msg: fmt.Sprintf("%s: the event log did not acknowledge the command within %s: "+
		"its stream has no leader (an election, or no quorum) or cannot be reached; the command may or may not have been stored: "+
		"retry it with the same command_id", ErrUnavailable, s.opts.AppendTimeout)}
}

// unavailableError is ErrUnavailable with the sentence for the producer; it
// keeps the log's error for errors.Is but not in its text, which travels.
type unavailableError struct {
	msg   string
	cause error
}

func (e unavailableError) Error() string { return e.msg }

func (e unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.cause} }

// writes are the writes of finished commands, reused: at about 500 bytes
// (a command, its event and its reply) one was the command path's
// largest allocation.
var writes = sync.Pool{New: func() any { return new(write) }}

// loaded loads e's aggregate from the log unless it is cached. The caller
// holds e.mu.
func (s *Service) loaded(ctx context.Context, e *entry) error {
	s.observer.CacheLookup(e.loaded)
	if e.loaded {
		return nil
	}
	return s.catchUp(ctx, e)
}

// decided is a command decided and encoded, ready to append.
type decided struct {
	ev   events.Event
	data []byte
}

// decide answers cmd from e's memory when its id was used already, or
// decides and encodes its event. done is true when reply and err are the
// command's answer, with nothing to append. The caller holds e.mu.
func (s *Service) decide(ctx context.Context, e *entry, cmd aggregate.Command) (d decided, reply api.CommandReply, done bool, err error) {
	if prior, ok := e.state.Position().Prior(commandKey(cmd)); ok {
		reply, err = s.duplicateReply(ctx, e.subject, cmd, prior.Seq)
		return decided{}, reply, true, err
	}
	if policybook.Decides(e.state, cmd) {
		if err := s.freshPolicy(ctx); err != nil {
			return decided{}, api.CommandReply{}, true, err
		}
	}
	s.recallFor(ctx, e, cmd)
	cmd, sl, err := s.digested(ctx, e, cmd)
	if err != nil {
		return decided{}, api.CommandReply{}, true, err
	}
	now := s.opts.Clock.Now()
	ev, err := e.state.Decide(cmd, s.policyAt(now), now)
	if err != nil && !e.current {
		// Refused on a cached state, which another node's appends may have
		// passed (the message a reaction names, sent through that node):
		// nothing is appended, so no OCC check would catch it. Decide
		// again on the log's latest; that refusal stands.
		if err := s.catchUp(ctx, e); err != nil {
			return decided{}, api.CommandReply{}, true, err
		}
		return s.decide(ctx, e, cmd)
	}
	if err == nil {
		ev, err = s.erasing(ctx, e, cmd, ev, sl)
	}
	if err != nil {
		return decided{}, api.CommandReply{}, true, err
	}
	data, err := events.Encode(ev)
	if err == nil {
		err = s.fits(data)
	}
	if err != nil {
		return decided{}, api.CommandReply{}, true, err
	}
	return decided{ev: ev, data: data}, api.CommandReply{}, false, nil
}

// settleAppend makes r, the append of d, the answer to cmd and evolves e
// with it; what the event spilled is the caller's to keep. A conflict is returned as is, for the caller to retry; an
// append whose outcome is unknown, or stored by another instance, leaves e
// to be loaded again. The caller holds e.mu.
func (s *Service) settleAppend(ctx context.Context, e *entry, cmd aggregate.Command, d decided, r eventlog.Result) (api.CommandReply, error) {
	switch {
	case errors.Is(r.Err, eventlog.ErrConflict):
		return api.CommandReply{}, r.Err
	case r.Err != nil:
		// The append may or may not have happened; r.Err names the
		// subject already.
		e.reset()
		return api.CommandReply{}, r.Err
	case r.Duplicate:
		reply, err := s.duplicateReply(ctx, e.subject, cmd, r.Seq)
		if !errors.Is(err, aggregate.ErrCommandIDReused) {
			e.reset() // a retry stored by another instance: e is behind
		}
		return reply, err
	}
	if err := e.state.Evolve(events.Recorded{Seq: r.Seq, Hash: events.Hash(d.data), Event: d.ev}); err != nil {
		e.reset()
		return api.CommandReply{}, err
	}
	return s.replyAt(d.ev, e.subject, r.Seq), nil
}

// retryConflict counts a conflict on e's attempt and catches e up for the
// next, or refuses the command once Options.MaxRetries are spent. The
// caller holds e.mu.
func (s *Service) retryConflict(ctx context.Context, e *entry, attempt int) error {
	s.observer.Conflicted(attempt < s.opts.MaxRetries)
	if attempt >= s.opts.MaxRetries {
		return fmt.Errorf("%w: %s kept changing under %d retries; retry the command", ErrConflict, e.subject, attempt)
	}
	return s.catchUp(ctx, e)
}

// catchUp folds into e every event of its subject after the last one it
// has, skipping poison (fold).
//
// It reads a page at a time: a long conversation's first load (one written
// before snapshots, or whose snapshot the log contradicts) keeps what it
// folded, and the snapshots and records it wrote, when its command's time
// runs out, so that the next command goes on from there rather than from
// the start (docs/architecture.md, "Snapshots and message records").
func (s *Service) catchUp(ctx context.Context, e *entry) error {
	if !e.loaded {
		s.restore(ctx, e)
	}
	for more := true; more; {
		var msgs []events.Message
		var err error
		msgs, more, err = s.log.LoadPage(ctx, e.subject, e.state.Position().LastSeq)
		if err != nil {
			e.loaded = false
			return fmt.Errorf("load %s: %w", e.subject, err)
		}
		for _, m := range msgs {
			s.fold(ctx, e, m)
			s.keep(ctx, e)
		}
		if err := ctx.Err(); err != nil && more {
			e.loaded = false // out of time: what is folded stays, for the next command
			return fmt.Errorf("load %s: %w (%w)", e.subject, eventlog.ErrUnavailable, err)
		}
	}
	e.loaded, e.current = true, true
	return nil
}

// duplicateReply answers a retried command with its first reply, read back
// from the log at seq, where the aggregate's memory or JetStream's duplicate
// window says cmd's id was used. Neither knows what the id was used for: it
// is a retry only if the event there is on subject and was decided from cmd
// itself; otherwise cmd is refused, naming the subject the id was used on.
func (s *Service) duplicateReply(ctx context.Context, subject string, cmd aggregate.Command, seq uint64) (api.CommandReply, error) {
	m, err := s.model.Get(ctx, subject, seq)
	if err != nil {
		return api.CommandReply{}, fmt.Errorf("read first reply at seq %d: %w", seq, err)
	}
	ev, err := events.Decode(m.Data)
	if err != nil {
		return api.CommandReply{}, err
	}
	same, err := s.sameCommand(ctx, ev, cmd)
	if err != nil {
		return api.CommandReply{}, err
	}
	if m.Subject != subject || !same {
		return api.CommandReply{}, fmt.Errorf("%w: command_id %s was first used on %s (stream seq %d) for another command; a new command needs a new command_id",
			aggregate.ErrCommandIDReused, cmd.Header().CommandID, m.Subject, seq)
	}
	r := s.replyAt(ev, subject, seq)
	r.Duplicate = true
	return r, nil
}

// job is a command resolved to the aggregate it is decided on.
type job struct {
	e   *entry
	cmd aggregate.Command
}

// conversationCommand handles one conversation command body for app.
func (s *Service) conversationCommand(ctx context.Context, p identity.Principal, app events.App, action string, body []byte, reply commandReply) {
	j, err := s.conversationJob(ctx, p, app, action, body)
	if err != nil {
		reply(api.CommandReply{}, err)
		return
	}
	s.executeAsync(ctx, j.e, j.cmd, commandKey(j.cmd), reply)
}

// commandKey is cmd's id scoped by the app it came through
// (events.CommandKey): its Nats-Msg-Id in the event log and the key an
// aggregate remembers it by, so that two apps' commands with one id are two
// commands and neither's reply names the other's.
func commandKey(cmd aggregate.Command) string {
	h := cmd.Header()
	return events.CommandKey(h.App, h.CommandID)
}

// conversationJob decodes and checks a conversation command body for app
// and resolves its conversation.
func (s *Service) conversationJob(ctx context.Context, p identity.Principal, app events.App, action string, body []byte) (job, error) {
	id, cmd, err := codec.ConversationCommand(action, app, codec.Origin{Principal: p.String(), Trace: traceFrom(ctx)}, body)
	if err != nil {
		return job{}, err
	}
	if err := mayCommand(p, app, cmd.Header().Actor); err != nil {
		return job{}, err
	}
	if id == "" {
		// Named by the command, so a retry finds the conversation it made
		// and is answered from it, even after a policy change.
		id = events.ConversationIDFor(app, cmd.Header().CommandID)
	}
	subject := events.ConversationSubject(id)
	e := s.convs.get(subject, func() state { return aggregate.NewConversation(id) })
	if start, ok := cmd.(aggregate.StartConversation); ok {
		if policybook.CrossApp(start.Actor, start.Participants) {
			if err := s.freshPolicy(ctx); err != nil {
				return job{}, err
			}
		}
		if cmd, err = s.withOptIns(ctx, start); err != nil {
			return job{}, err
		}
	}
	return job{e: e, cmd: cmd}, nil
}

// withOptIns fills a start's opt-ins when the policy in force has a link
// among its apps that requires one. Reading them before deciding leaves a
// window in which an opt-out can land; the opt-out's closer closes what
// slipped through.
func (s *Service) withOptIns(ctx context.Context, start aggregate.StartConversation) (aggregate.Command, error) {
	all := s.book.OptInsFor(start, s.opts.Clock.Now())
	if all == nil {
		return start, nil
	}
	optIns, err := s.optIns(ctx, all)
	start.OptedIn = optIns
	return start, err
}

// accountCommand handles presence.set and settings.set for app.
func (s *Service) accountCommand(ctx context.Context, p identity.Principal, app events.App, action string, body []byte, reply commandReply) {
	j, err := s.accountJob(ctx, p, app, action, body)
	if err != nil {
		reply(api.CommandReply{}, err)
		return
	}
	s.executeAsync(ctx, j.e, j.cmd, commandKey(j.cmd), func(r api.CommandReply, err error) {
		s.executed(j, r, err)
		reply(r, err)
	})
}

// accountJob decodes and checks an account command body for app and
// resolves its account.
func (s *Service) accountJob(ctx context.Context, p identity.Principal, app events.App, action string, body []byte) (job, error) {
	cmd, err := codec.AccountCommand(action, app, codec.Origin{Principal: p.String(), Trace: traceFrom(ctx)}, body)
	if err != nil {
		return job{}, err
	}
	actor := cmd.Header().Actor
	if _, err := events.ParseAccount(string(actor)); err != nil {
		return job{}, fmt.Errorf("%w: actor: %v", aggregate.ErrInvalid, err)
	}
	if err := mayCommandAccount(p, app, cmd); err != nil {
		return job{}, err
	}
	return job{e: s.accts.get(events.AccountSubject(actor), func() state { return aggregate.NewAccount(actor) }), cmd: cmd}, nil
}

// executed follows up j's execution: a settings.set that opts its account
// out of interop has the closer close its cross-app conversations.
func (s *Service) executed(j job, r api.CommandReply, err error) {
	if set, ok := j.cmd.(aggregate.ChangeSettings); ok && err == nil && !r.Duplicate &&
		set.InteropOptIn != nil && !*set.InteropOptIn {
		s.closer.QueueOptOut(closer.OptOut{Account: set.Actor, Seq: r.StreamSeq, EventID: r.EventID})
	}
}
