package eventlog

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/events"
)

// AppendAsync appends e as Append would and calls done with what Append
// would have returned, without waiting for JetStream's acknowledgement
// or for its signature: e is signed in a batch with the appends queued
// with it, by the caller that finds no batch being signed, which then
// signs and publishes batch after batch, a few at most (leaderRounds)
// before a goroutine of their own takes the rest.
//
// done is called exactly once. An acknowledgement (stored, or a duplicate)
// calls it on the goroutine that reads the log's acknowledgements, which
// done must not block: every append of the connection waits behind it.
// Anything else (a refusal, a publish again while the stream has no
// leader, ctx ending first) calls it on a goroutine of its own, or on the
// caller's before AppendAsync returns.
//
// This is how the floor of a command (the bench's raw_occ_endpoint)
// publishes, and the command path's answer to it: a command waiting for
// its acknowledgement held a goroutine parked per command, woken one by
// one, each replying on its own; acknowledgements read together now settle
// and reply together, and the connection's flusher writes those replies in
// fewer writes.
func (l *Log) AppendAsync(ctx context.Context, e Entry, done func(Result)) {
	l = l.route(e.Subject)
	if l.group != nil || l.async == nil {
		go func() { // a grouped commit waits for its batch anyway
			seq, dup, err := l.Append(ctx, e.Subject, e.ExpectedSeq, e.MsgID, e.Data)
			done(Result{Seq: seq, Duplicate: dup, Err: err})
		}()
		return
	}
	a := &asyncAppend{log: l, e: e, done: done}
	a.ctx, a.cancel = l.withDefaultTimeout(ctx)
	if err := l.check(e); err != nil {
		a.finish(Result{Err: err})
		return
	}
	if l.signer == nil {
		l.async.publish(a)
		return
	}
	l.async.sign(a)
}

// asyncAppends are a log's appends in flight under AppendAsync, found by
// their message when JetStream answers. One serves every stream of a
// partitioned log: they share the connection.
type asyncAppends struct {
	nc   *nats.Conn
	once sync.Once
	js   jetstream.JetStream
	err  error

	mu      sync.Mutex
	pending map[*nats.Msg]*asyncAppend

	// Signing in rounds: the caller that finds no round running signs
	// and publishes every append queued meanwhile, round after round,
	// until none is left; the others queue theirs and go. No caller
	// waits for a signature, so none parks and is woken per append, as
	// Append's callers are (groupSigner).
	smu     sync.Mutex
	queue   []*asyncAppend
	spare   []*asyncAppend // the slice of the last round, reused
	signing bool
	signer  *events.Signer
	leaves  []events.Leaf // scratch of the round in progress
}

// asyncAppend is one append in flight.
type asyncAppend struct {
	log    *Log
	ctx    context.Context
	cancel context.CancelFunc
	e      Entry
	header string
	done   func(Result)
	stop   func() bool // unregisters the deadline (context.AfterFunc)
}

// newAsyncAppends returns the appends in flight on nc, signed by signer
// unless it is nil; its JetStream context, whose acknowledgement handlers
// find them, is made on first use.
func newAsyncAppends(nc *nats.Conn, signer *events.Signer) *asyncAppends {
	return &asyncAppends{nc: nc, signer: signer, pending: map[*nats.Msg]*asyncAppend{}}
}

// sign queues a to be signed and published, and runs the rounds if none
// is running.
func (p *asyncAppends) sign(a *asyncAppend) {
	p.smu.Lock()
	p.queue = append(p.queue, a)
	lead := !p.signing
	p.signing = true
	p.smu.Unlock()
	if lead {
		// Let the appenders already runnable join the first round: a
		// round per append would sign each alone, an ed25519 signature
		// each (groupSigner.sign does the same).
		runtime.Gosched()
		p.rounds(leaderRounds)
	}
}

// leaderRounds bounds the rounds a caller runs for the others before it
// hands them to a goroutine of their own: under a flood of appends the
// queue is never empty, and the caller (a request's worker, the policy
// closer, a policy publish) would sign for everyone else indefinitely.
const leaderRounds = 4

// rounds runs up to n rounds (0: until none is queued); with appends
// still queued after n, a goroutine of their own runs on until none is.
func (p *asyncAppends) rounds(n int) {
	for i := 0; n == 0 || i < n; i++ {
		if !p.round() {
			return
		}
	}
	go p.rounds(0)
}

// round signs the appends queued as one batch and publishes them; false
// (and the rounds end) when none was queued.
func (p *asyncAppends) round() bool {
	p.smu.Lock()
	if len(p.queue) == 0 {
		p.signing = false
		p.smu.Unlock()
		return false
	}
	batch := p.queue
	p.queue, p.spare = p.spare[:0], nil // two slices, never one
	p.smu.Unlock()
	p.leaves = p.leaves[:0]
	for _, a := range batch {
		p.leaves = append(p.leaves, events.Leaf{Subject: a.e.Subject, Data: a.e.Data})
	}
	for i, h := range p.signer.SignBatch(p.leaves) {
		batch[i].header = h
		p.publish(batch[i])
	}
	clear(p.leaves) // keep no event's bytes alive between rounds
	clear(batch)
	p.smu.Lock()
	p.spare = batch[:0]
	p.smu.Unlock()
	return true
}

// publish publishes a, with its header. The deadline is registered before
// a is pending and checked again after, so that a ctx ending at any point
// settles a once: by the deadline's function, or right here.
func (p *asyncAppends) publish(a *asyncAppend) {
	msg := message(a.e, a.log.spec.physical(a.e.Subject), a.header)
	js, err := p.context()
	if err != nil {
		a.finish(Result{Err: fmt.Errorf("append to %s: %w", a.e.Subject, err)})
		return
	}
	a.stop = context.AfterFunc(a.ctx, func() {
		if p.take(msg) != nil {
			a.finish(a.unavailable())
		}
	})
	p.mu.Lock()
	p.pending[msg] = a
	p.mu.Unlock()
	if a.ctx.Err() != nil && p.take(msg) != nil {
		a.finish(a.unavailable())
		return
	}
	if _, err := js.PublishMsgAsync(msg); err != nil && p.take(msg) != nil {
		a.stop()
		a.finish(Result{Err: fmt.Errorf("append to %s after seq %d: %w", a.e.Subject, a.e.ExpectedSeq, mapError(err))})
	}
}

// context is the JetStream context the appends are published through.
func (p *asyncAppends) context() (jetstream.JetStream, error) {
	p.once.Do(func() {
		p.js, p.err = jetstream.New(p.nc,
			jetstream.WithPublishAsyncAckHandler(p.acked), jetstream.WithPublishAsyncErrHandler(p.refused))
	})
	return p.js, p.err
}

// take removes msg's append from those pending and returns it; nil when
// it was settled already.
func (p *asyncAppends) take(msg *nats.Msg) *asyncAppend {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.pending[msg]
	delete(p.pending, msg)
	return a
}

// acked settles an acknowledged append, on the acknowledgements'
// goroutine.
func (p *asyncAppends) acked(_ jetstream.JetStream, msg *nats.Msg, ack *jetstream.PubAck) {
	if a := p.take(msg); a != nil {
		a.stop()
		a.finish(Result{Seq: ack.Sequence, Duplicate: ack.Duplicate})
	}
}

// refused settles an append JetStream refused, or whose publish was lost,
// on a goroutine of its own: settling it may read the log (a conflict
// that is the retry of a stored append) or publish it again.
func (p *asyncAppends) refused(_ jetstream.JetStream, msg *nats.Msg, err error) {
	if a := p.take(msg); a != nil {
		a.stop()
		go a.finish(a.log.settleRefused(a.ctx, a.e, a.header, err))
	}
}

// finish gives r to done, once.
func (a *asyncAppend) finish(r Result) {
	a.cancel()
	a.done(r)
}

// unavailable is a's result when its ctx ends before JetStream answers.
func (a *asyncAppend) unavailable() Result {
	return Result{Err: fmt.Errorf("append to %s after seq %d: %w (%w)", a.e.Subject, a.e.ExpectedSeq, ErrUnavailable, context.Cause(a.ctx))}
}

// settleRefused is the result of e, published signed with header and
// refused with err: published again, as Append does, while no stream
// leader decided anything; else what Append returns for the refusal.
func (l *Log) settleRefused(ctx context.Context, e Entry, header string, err error) Result {
	if transient(err) {
		return l.appendSigned(ctx, e, header)
	}
	return l.failed(ctx, e, mapError(err))
}
