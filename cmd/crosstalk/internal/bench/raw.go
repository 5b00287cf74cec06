package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The stream of the raw figures: JetStream alone, without crosstalk, set up
// like CROSSTALK (file storage, a two-minute duplicate window) but on its own
// subjects so that it does not add to crosstalk's history.
const (
	rawStream   = "BENCH_RAW"
	rawSubjects = "bench.raw.>"
	rawPrefix   = "bench.raw."
)

// Async publishing: how many acks may be outstanding, and how long a
// publish may wait for room.
const (
	maxPendingAcks = 4096
	stallWait      = 10 * time.Second
)

// rawPublish measures raw_js_async_pub: PublishAsync with a Nats-Msg-Id,
// BodySize bytes each, round robin over Conversations subjects, for
// Duration; the rate counts acknowledged messages up to the last ack.
func (r *runner) rawPublish(ctx context.Context) error {
	_, err := r.env.js.CreateStream(ctx, jetstream.StreamConfig{
		Name: rawStream, Subjects: []string{rawSubjects}, Storage: jetstream.FileStorage,
		Duplicates: 2 * time.Minute, MaxConsumers: -1, MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1,
	})
	if err != nil {
		return fmt.Errorf("create stream %s: %w", rawStream, err)
	}
	subjects := make([]string, r.opts.Conversations)
	for i := range subjects {
		subjects[i] = rawPrefix + strconv.Itoa(i)
	}
	body := make([]byte, r.opts.BodySize)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	var pub *publisher
	var elapsed time.Duration
	err = r.timedPhase(figRawPub, r.opts.Duration, func() error {
		pub, err = newPublisher(r.env, "raw publisher")
		if err != nil {
			return err
		}
		var stopped atomic.Bool
		timer := time.AfterFunc(r.opts.Duration, func() { stopped.Store(true) })
		defer timer.Stop()
		start := time.Now()
		for i := 0; !stopped.Load(); i++ {
			msg := &nats.Msg{Subject: subjects[i%len(subjects)], Data: body}
			if err := pub.publish(msg, "raw-"+strconv.Itoa(i)); err != nil {
				return err
			}
		}
		err := pub.wait(ctx)
		elapsed = time.Since(start)
		return err
	})
	if err != nil {
		return err
	}
	n := pub.acked.Load()
	r.add(Figure{Name: figRawPub, Value: rate(int(n), elapsed), Unit: "msgs/s", Count: n, Elapsed: elapsed,
		Note: fmt.Sprintf("PublishAsync + Nats-Msg-Id, %d B, %d subjects, 1 connection", r.opts.BodySize, len(subjects))})
	return nil
}

// rawConsume measures raw_ordered_consume: an ordered consumer reading the
// whole of BENCH_RAW with the prefetch the event log uses, then deletes the
// stream.
func (r *runner) rawConsume(ctx context.Context) error {
	stream, err := r.env.js.Stream(ctx, rawStream)
	if err != nil {
		return err
	}
	total := stream.CachedInfo().State.Msgs
	var read atomic.Int64
	var elapsed time.Duration
	err = r.phase(figRawConsume, int64(total), read.Load, func() error {
		start := time.Now()
		err := consumeAll(ctx, stream, total, &read)
		elapsed = time.Since(start)
		return err
	})
	if err != nil {
		return err
	}
	r.add(Figure{Name: figRawConsume, Value: rate(int(total), elapsed), Unit: "msgs/s", Count: int64(total), Elapsed: elapsed,
		Note: "ordered consumer, 1024 prefetched, from the start of " + rawStream})
	return r.env.js.DeleteStream(ctx, rawStream)
}

// consumePrefetch matches the event log's ordered reads (eventlog.Read).
const consumePrefetch = 1024

func consumeAll(ctx context.Context, stream jetstream.Stream, total uint64, read *atomic.Int64) error {
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(consumePrefetch))
	if err != nil {
		return err
	}
	defer it.Stop()
	for n := uint64(0); n < total; n++ {
		if _, err := it.Next(jetstream.NextContext(ctx)); err != nil {
			return fmt.Errorf("after %d of %d messages: %w", n, total, err)
		}
		read.Add(1)
	}
	return nil
}

// publisher publishes asynchronously on its own connection and counts the
// acknowledgements; the first failed publish is kept.
type publisher struct {
	js     jetstream.JetStream
	acked  atomic.Int64
	failed atomic.Pointer[error]
}

func newPublisher(e *env, name string) (*publisher, error) {
	nc, err := e.connect(name)
	if err != nil {
		return nil, err
	}
	p := &publisher{}
	p.js, err = jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(maxPendingAcks),
		jetstream.WithPublishAsyncAckHandler(func(jetstream.JetStream, *nats.Msg, *jetstream.PubAck) { p.acked.Add(1) }),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			err = fmt.Errorf("publish to %s: %w", m.Subject, err)
			p.failed.CompareAndSwap(nil, &err)
		}))
	return p, err
}

// publish sends msg with msgID as its Nats-Msg-Id without waiting for the
// ack; it waits for room when maxPendingAcks are outstanding.
func (p *publisher) publish(msg *nats.Msg, msgID string) error {
	if err := p.failed.Load(); err != nil {
		return *err
	}
	_, err := p.js.PublishMsgAsync(msg, jetstream.WithMsgID(msgID), jetstream.WithStallWait(stallWait))
	return err
}

// wait waits for every outstanding ack and returns the first failure.
func (p *publisher) wait(ctx context.Context) error {
	select {
	case <-p.js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := p.failed.Load(); err != nil {
		return *err
	}
	return nil
}

// echoSubject is where raw_request_reply's responder listens.
const echoSubject = "bench.echo"

// rawRequestReply measures raw_request_reply: core NATS requests to a
// responder that echoes them, Clients × InFlight in flight, each about the
// size of a message.send body. No JetStream, no JSON: the cost of the two
// messages every command and query is made of.
func (r *runner) rawRequestReply(ctx context.Context) error {
	conns, err := r.clientConns()
	if err != nil {
		return err
	}
	return r.rawEcho(ctx, figRawRR, conns, r.opts.InFlight, 200)
}

// rawRequestReplyInbox measures raw_request_reply_inbox, the floor of
// query_inbox in its own shape: the same clients with one request each in
// flight (so the same flushes and wake-ups per request), answered with as
// many bytes as a real inbox page, neither side decoding anything.
func (r *runner) rawRequestReplyInbox(ctx context.Context, replySize int) error {
	conns, err := r.clientConns()
	if err != nil {
		return err
	}
	return r.rawEcho(ctx, figRawRRInbox, conns, 1, replySize)
}

// rawEcho runs the figure name: requests of 200 B from conns, inFlight each,
// to a responder that answers each with replySize bytes.
func (r *runner) rawEcho(ctx context.Context, name string, conns []*nats.Conn, inFlight, replySize int) error {
	nc, err := r.env.connect("echo responder")
	if err != nil {
		return err
	}
	defer nc.Close()
	reply := make([]byte, replySize)
	sub, err := nc.QueueSubscribe(echoSubject, "q", func(m *nats.Msg) { _ = m.Respond(reply) })
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		return err
	}
	body := make([]byte, 200)
	var l latencies
	var elapsed time.Duration
	err = r.timedPhase(name, r.opts.Duration, func() (err error) {
		l, elapsed, err = workers(ctx, len(conns)*inFlight, r.opts.Duration, func(ctx context.Context, s, _ int) error {
			rctx, cancel := context.WithTimeout(ctx, requestTimeout)
			defer cancel()
			_, err := conns[s/inFlight].RequestWithContext(rctx, echoSubject, body)
			return err
		})
		return err
	})
	if err != nil {
		return err
	}
	note := fmt.Sprintf("core NATS echo, %d B request, %d B reply, %d clients × %d in flight", len(body), replySize, len(conns), inFlight)
	r.add(requestFigure(name, "requests/s", note, l, elapsed))
	return nil
}
