package eventlog

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Headers and statuses of the batch direct-get API (ADR-31), which nats.go
// v1.55 does not wrap.
const (
	statusHeader      = "Status"
	descriptionHeader = "Description"
	numPendingHeader  = "Nats-Num-Pending"
	statusEndOfBatch  = "204"
	statusNotFound    = "404"
	statusNoResponder = "503"
)

// directRequest asks for up to Batch messages on NextFor from Seq on, and
// at most about MaxBytes of them.
type directRequest struct {
	Seq      uint64 `json:"seq"`
	NextFor  string `json:"next_by_subj"`
	Batch    int    `json:"batch"`
	MaxBytes int    `json:"max_bytes"`
}

// directGetter makes batch direct-get requests. A batch is answered with
// several messages and a closing status message, which nats.go's
// request/reply cannot receive, so the replies of all requests arrive on one
// wildcard subscription, made on first use, and are sorted by reply subject.
// A subscription per request would cost several times the request itself.
type directGetter struct {
	nc      *nats.Conn
	subject string // $JS.API.DIRECT.GET.<stream>, with the context's prefix

	once   sync.Once
	err    error
	prefix string // reply subjects are prefix + a call token

	mu    sync.Mutex
	calls map[string]*directCall
	last  uint64
}

// directCall collects the reply to one request.
type directCall struct {
	msgs []*nats.Msg
	end  *nats.Msg     // the closing status message
	done chan struct{} // closed when end arrives
}

func newDirectGetter(js jetstream.JetStream, stream string) *directGetter {
	return &directGetter{
		nc:      js.Conn(),
		subject: apiPrefix(js.Options()) + "DIRECT.GET." + stream,
		calls:   make(map[string]*directCall),
	}
}

// get sends req and waits for the whole reply: the messages, and the status
// message that ends it.
func (d *directGetter) get(ctx context.Context, req directRequest) ([]*nats.Msg, *nats.Msg, error) {
	d.once.Do(d.subscribe)
	if d.err != nil {
		return nil, nil, d.err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, nil, err
	}
	token, call := d.register()
	defer d.forget(token)
	if err := d.nc.PublishRequest(d.subject, d.prefix+token, body); err != nil {
		return nil, nil, err
	}
	select {
	case <-call.done:
		return call.msgs, call.end, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

func (d *directGetter) subscribe() {
	d.prefix = d.nc.NewInbox() + "."
	_, d.err = d.nc.Subscribe(d.prefix+"*", d.receive)
}

func (d *directGetter) register() (string, *directCall) {
	call := &directCall{done: make(chan struct{})}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last++
	token := strconv.FormatUint(d.last, 36)
	d.calls[token] = call
	return token, call
}

func (d *directGetter) forget(token string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.calls, token)
}

// receive files one reply message with its call; replies to calls that
// gave up are dropped.
func (d *directGetter) receive(m *nats.Msg) {
	token := m.Subject[len(d.prefix):]
	d.mu.Lock()
	defer d.mu.Unlock()
	call := d.calls[token]
	switch {
	case call == nil:
	case m.Header.Get(jetstream.SequenceHeader) != "":
		call.msgs = append(call.msgs, m)
	default:
		call.end = m
		delete(d.calls, token)
		close(call.done)
	}
}

// directMessage converts one message of a direct-get reply.
func directMessage(m *nats.Msg) (events.Message, error) {
	seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil {
		return events.Message{}, fmt.Errorf("direct get: bad sequence header: %w", err)
	}
	return events.Message{Seq: seq, Subject: m.Header.Get(jetstream.SubjectHeader), Data: m.Data,
		Signature: m.Header.Get(events.SignatureHeader)}, nil
}

// endOfBatch interprets the status message that ends a direct-get reply: it
// returns whether messages are still pending, or the error it reports.
func endOfBatch(m *nats.Msg) (bool, error) {
	switch status := m.Header.Get(statusHeader); status {
	case statusEndOfBatch:
		pending, err := strconv.ParseUint(m.Header.Get(numPendingHeader), 10, 64)
		return pending > 0, err
	case statusNotFound:
		return false, nil
	case statusNoResponder:
		return false, nats.ErrNoResponders
	default:
		return false, fmt.Errorf("direct get: status %q: %s", status, m.Header.Get(descriptionHeader))
	}
}
