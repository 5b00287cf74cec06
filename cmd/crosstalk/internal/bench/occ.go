package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/nats-io/nuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// raw_occ_endpoint's stream and subjects: a stream set up like CROSSTALK
// (file storage, a two-minute duplicate window) on subjects of its own, so
// that its bodies, which are not events, never reach crosstalk's history.
const (
	occStream   = "BENCH_OCC"
	occSubjects = "bench.occ.conv.>"
	occPrefix   = "bench.occ.conv."
	// occRequests is the endpoint: bench.occ.send.<conversation>. The
	// conversation is in the subject so that the endpoint need not decode
	// the body to know where to publish.
	occRequests = "bench.occ.send"
)

// errOCCReply is a raw_occ_endpoint reply that was an error.
var errOCCReply = errors.New("raw_occ_endpoint replied with an error")

// rawOCCEndpoint measures raw_occ_endpoint: the floor of a command on this
// design. A bare micro endpoint takes the message.send body of cmd_send
// without decoding it, publishes BodySize bytes to the conversation's
// subject with a Nats-Msg-Id and the Nats-Expected-Last-Subject-Sequence it
// keeps in memory, and replies with a small JSON once JetStream has acked.
// The clients do what cmd_send's do: encode the body, request, decode the
// reply; Clients × InFlight in flight over Conversations conversations.
func (r *runner) rawOCCEndpoint(ctx context.Context) error { return r.occFloor(ctx, figRawOCC) }

// occFloor measures raw_occ_endpoint's workload as the figure name, on a
// stream of its own deleted afterwards.
func (r *runner) occFloor(ctx context.Context, name string) error {
	if _, err := r.env.js.CreateStream(ctx, jetstream.StreamConfig{
		Name: occStream, Subjects: []string{occSubjects}, Storage: jetstream.FileStorage,
		Duplicates: 2 * time.Minute, MaxConsumers: -1, MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1,
	}); err != nil {
		return fmt.Errorf("create stream %s: %w", occStream, err)
	}
	ep, err := r.startOCCEndpoint()
	if err != nil {
		return err
	}
	err = r.occRequests(ctx, ep, name)
	return errors.Join(err, ep.stop(), r.env.js.DeleteStream(ctx, occStream))
}

// occRequests runs the clients against the endpoint and adds the figure.
func (r *runner) occRequests(ctx context.Context, ep *occEndpoint, name string) error {
	conns, err := r.clientConns()
	if err != nil {
		return err
	}
	convs := make([]string, r.opts.Conversations)
	for i := range convs {
		convs[i] = events.NewID()
	}
	txt, c, inFlight := text(r.opts.TextSize), len(conns), r.opts.InFlight
	var l latencies
	var elapsed time.Duration
	err = r.timedPhase(name, r.opts.Duration, func() (err error) {
		l, elapsed, err = workers(ctx, c*inFlight, r.opts.Duration, func(ctx context.Context, s, i int) error {
			owner, lane := s/inFlight, s%inFlight
			conv := convs[ownedConversation(owner, c, len(convs), lane+i*inFlight)]
			body := sendBody{CommandID: events.NewID(), Actor: account(appA, "send-a", owner), ConversationID: conv, Text: txt}
			return occRequest(ctx, conns[owner], conv, body)
		})
		return err
	})
	if err == nil {
		err = ep.err()
	}
	if err != nil {
		return err
	}
	note := fmt.Sprintf("micro endpoint, body not decoded, %d B publish with expected subject seq, ack, reply; %d clients × %d in flight, %d conversations",
		r.opts.BodySize, c, inFlight, len(convs))
	r.add(requestFigure(name, "cmds/s", note, l, elapsed))
	return nil
}

// occRequest is one client request of raw_occ_endpoint, with the client
// side of client.Command: encode the body, request, decode the reply.
func occRequest(ctx context.Context, nc *nats.Conn, conv string, body sendBody) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	msg, err := nc.RequestWithContext(rctx, occRequests+"."+conv, data)
	if err != nil {
		return err
	}
	if code := msg.Header.Get(micro.ErrorCodeHeader); code != "" {
		return fmt.Errorf("%w: %s %s", errOCCReply, code, msg.Header.Get(micro.ErrorHeader))
	}
	var rep api.CommandReply
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return err
	}
	if rep.StreamSeq == 0 {
		return fmt.Errorf("%w: no stream_seq in %s", errOCCReply, msg.Data)
	}
	return nil
}

// occEndpoint is the endpoint's state: per subject, the last sequence
// stored and the requests waiting for the one publish in flight on it. A
// subject's next publish must carry the sequence of its last, so requests
// to one conversation wait for each other, as commands to one aggregate
// do; requests to different conversations never wait.
type occEndpoint struct {
	svc    micro.Service
	js     jetstream.JetStream
	body   []byte
	mu     sync.Mutex
	convs  map[string]*occConv
	failed atomic.Pointer[error]
}

// occConv is one subject's position and queue.
type occConv struct {
	seq      uint64
	inflight micro.Request // nil when no publish is awaiting its ack
	queue    []micro.Request
}

// startOCCEndpoint starts the micro service on a connection of its own,
// publishing on another, as the service and its event log do.
func (r *runner) startOCCEndpoint() (*occEndpoint, error) {
	body := make([]byte, r.opts.BodySize)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	ep := &occEndpoint{body: body, convs: map[string]*occConv{}}
	pubConn, err := r.env.connect("occ publisher")
	if err != nil {
		return nil, err
	}
	// Acks come back through callbacks, so that no goroutine waits per
	// request: the endpoint's only work is NATS's own.
	ep.js, err = jetstream.New(pubConn, jetstream.WithPublishAsyncMaxPending(maxPendingAcks),
		jetstream.WithPublishAsyncAckHandler(ep.acked), jetstream.WithPublishAsyncErrHandler(ep.refused))
	if err != nil {
		return nil, err
	}
	nc, err := r.env.connect("occ endpoint")
	if err != nil {
		return nil, err
	}
	ep.svc, err = micro.AddService(nc, micro.Config{Name: "bench-occ", Version: "1.0.0"})
	if err != nil {
		return nil, err
	}
	if err := ep.svc.AddEndpoint("send", micro.HandlerFunc(ep.handle), micro.WithEndpointSubject(occRequests+".*")); err != nil {
		return nil, errors.Join(err, ep.svc.Stop())
	}
	return ep, nc.Flush()
}

// handle publishes at once, or queues the request behind the publish in
// flight on its conversation.
func (ep *occEndpoint) handle(req micro.Request) {
	subject := occPrefix + req.Subject()[strings.LastIndexByte(req.Subject(), '.')+1:]
	ep.mu.Lock()
	c := ep.convs[subject]
	if c == nil {
		c = &occConv{}
		ep.convs[subject] = c
	}
	if c.inflight != nil {
		c.queue = append(c.queue, req)
		ep.mu.Unlock()
		return
	}
	c.inflight = req
	seq := c.seq
	ep.mu.Unlock()
	ep.publish(subject, seq, req)
}

// publish sends the body with the expected sequence; the ack or the error
// arrives in acked or refused.
func (ep *occEndpoint) publish(subject string, seq uint64, req micro.Request) {
	msg := &nats.Msg{Subject: subject, Data: ep.body}
	_, err := ep.js.PublishMsgAsync(msg, jetstream.WithMsgID(nuid.Next()),
		jetstream.WithExpectLastSequencePerSubject(seq), jetstream.WithStallWait(stallWait))
	if err != nil {
		ep.refused(ep.js, msg, err)
	}
}

// acked replies to the request in flight on the ack's subject and
// publishes the next one waiting there.
func (ep *occEndpoint) acked(_ jetstream.JetStream, msg *nats.Msg, ack *jetstream.PubAck) {
	req, next, seq := ep.advance(msg.Subject, ack.Sequence)
	reply := strconv.AppendUint([]byte(`{"stream_seq":`), ack.Sequence, 10)
	_ = req.Respond(append(reply, '}'))
	if next != nil {
		ep.publish(msg.Subject, seq, next)
	}
}

// refused fails the request in flight on msg's subject, keeps the first
// error for the phase, and goes on with the next request.
func (ep *occEndpoint) refused(_ jetstream.JetStream, msg *nats.Msg, err error) {
	err = fmt.Errorf("publish to %s: %w", msg.Subject, err)
	ep.failed.CompareAndSwap(nil, &err)
	ep.mu.Lock()
	seq := ep.convs[msg.Subject].seq
	ep.mu.Unlock()
	req, next, _ := ep.advance(msg.Subject, seq)
	_ = req.Error("500", err.Error(), nil)
	if next != nil {
		ep.publish(msg.Subject, seq, next)
	}
}

// advance records seq as subject's last and moves its queue on: it returns
// the request that was in flight, and the next one (now in flight) if any.
func (ep *occEndpoint) advance(subject string, seq uint64) (done, next micro.Request, last uint64) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	c := ep.convs[subject]
	c.seq, done = seq, c.inflight
	c.inflight = nil
	if len(c.queue) > 0 {
		c.inflight, c.queue = c.queue[0], c.queue[1:]
	}
	return done, c.inflight, seq
}

// err is the first failed publish, if any.
func (ep *occEndpoint) err() error {
	if err := ep.failed.Load(); err != nil {
		return *err
	}
	return nil
}

// stop stops the micro service.
func (ep *occEndpoint) stop() error { return ep.svc.Stop() }
