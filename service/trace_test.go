package service_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

const (
	testParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	testState  = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
)

// traced sends body to subject with headers hdr, as a producer would with
// nats.go, and returns the reply.
func (h *harness) traced(subject string, hdr nats.Header, body any) *nats.Msg {
	h.t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		h.t.Fatal(err)
	}
	h.clock.Advance(time.Second)
	reply, err := h.nc.RequestMsg(&nats.Msg{Subject: subject, Header: hdr, Data: data}, 10*time.Second)
	if err != nil {
		h.t.Fatal(err)
	}
	return reply
}

// storedEvent reads the event stored at seq of stream.
func (h *harness) storedEvent(stream string, seq uint64) events.Event {
	h.t.Helper()
	s, err := h.js.Stream(h.ctx, stream)
	if err != nil {
		h.t.Fatal(err)
	}
	m, err := s.GetMsg(h.ctx, seq)
	if err != nil {
		h.t.Fatal(err)
	}
	e, err := events.Decode(m.Data)
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

func commandReply(t *testing.T, m *nats.Msg) api.CommandReply {
	t.Helper()
	var r api.CommandReply
	if m.Header.Get("Nats-Service-Error-Code") != "" || json.Unmarshal(m.Data, &r) != nil {
		t.Fatalf("command failed: %s %s", m.Header, m.Data)
	}
	return r
}

// A W3C trace context on a command, through NATS, is stored as the event's
// CloudEvents distributed-tracing extension and echoed in the reply's
// headers under the W3C's lowercase names.
func TestTraceContextIntoEventAndReply(t *testing.T) {
	h := newHarness(t)
	start := map[string]any{"command_id": uuid.NewString(), "actor": "instagram:alice", "participants": []string{"instagram:dave"}}
	reply := h.traced(api.CommandSubject("instagram", api.ActionConversationStart),
		nats.Header{"traceparent": {testParent}, "tracestate": {testState}}, start)
	r := commandReply(t, reply)
	if got := reply.Header.Get("traceparent"); got != testParent {
		t.Errorf("reply traceparent %q, want %q (headers %v)", got, testParent, reply.Header)
	}
	if got := reply.Header.Get("tracestate"); got != testState {
		t.Errorf("reply tracestate %q, want %q", got, testState)
	}
	e := h.storedEvent(events.StreamName, r.StreamSeq)
	if e.TraceParent != testParent || e.TraceState != testState {
		t.Errorf("stored trace %q %q, want %q %q", e.TraceParent, e.TraceState, testParent, testState)
	}

	// A retry from another trace is answered from the first event: the
	// reply carries the retry's trace, the log keeps the first one's.
	other := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	again := h.traced(api.CommandSubject("instagram", api.ActionConversationStart), nats.Header{"traceparent": {other}}, start)
	if r2 := commandReply(t, again); !r2.Duplicate || r2.EventID != r.EventID || again.Header.Get("traceparent") != other {
		t.Errorf("retry: %+v, traceparent %q", r2, again.Header.Get("traceparent"))
	}

	// A query's reply carries the query's trace context too.
	q := h.traced(api.QuerySubject(api.QueryStatus), nats.Header{"traceparent": {testParent}}, map[string]any{})
	if got := q.Header.Get("traceparent"); got != testParent {
		t.Errorf("query reply traceparent %q, want %q", got, testParent)
	}
}

// nats.Header keys are case-sensitive. A producer that injects through
// OpenTelemetry's propagation.HeaderCarrier (an http.Header) sends
// "Traceparent"; crosstalk takes it as it takes "traceparent", and
// answers in lowercase.
func TestTraceContextAnyCasing(t *testing.T) {
	h := newHarness(t)
	conv := h.must("instagram:alice", api.ActionConversationStart, map[string]any{"participants": []string{"instagram:dave"}}).ConversationID

	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:  trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}, TraceFlags: trace.FlagsSampled,
	})
	hdr := http.Header{}
	propagation.TraceContext{}.Inject(trace.ContextWithRemoteSpanContext(context.Background(), sc), propagation.HeaderCarrier(hdr))
	if _, ok := hdr["Traceparent"]; !ok {
		t.Fatalf("HeaderCarrier wrote %v", hdr)
	}
	send := map[string]any{"command_id": uuid.NewString(), "actor": "instagram:alice", "conversation_id": conv, "text": "hi"}
	reply := h.traced(api.CommandSubject("instagram", api.ActionMessageSend), nats.Header(hdr), send)
	r := commandReply(t, reply)
	if got := h.storedEvent(events.StreamName, r.StreamSeq).TraceParent; got != testParent {
		t.Errorf("stored traceparent %q, want %q", got, testParent)
	}
	if reply.Header.Get("traceparent") != testParent {
		t.Errorf("reply headers %v, want lowercase traceparent", reply.Header)
	}
}

// A malformed traceparent is ignored, as the W3C says a receiver does: the
// command succeeds and neither the event nor the reply has a trace.
func TestTraceContextMalformedIgnored(t *testing.T) {
	h := newHarness(t)
	start := map[string]any{"command_id": uuid.NewString(), "actor": "instagram:alice", "participants": []string{"instagram:dave"}}
	reply := h.traced(api.CommandSubject("instagram", api.ActionConversationStart),
		nats.Header{"traceparent": {"00-not-a-trace-01"}, "tracestate": {testState}}, start)
	r := commandReply(t, reply)
	if e := h.storedEvent(events.StreamName, r.StreamSeq); e.TraceParent != "" || e.TraceState != "" {
		t.Errorf("stored trace %q %q, want none", e.TraceParent, e.TraceState)
	}
	if _, ok := reply.Header["traceparent"]; ok {
		t.Errorf("reply headers %v, want no traceparent", reply.Header)
	}
}

// A refused command's record in the audit stream carries the trace too, and
// so does the error reply.
func TestTraceContextOnRefusal(t *testing.T) {
	h := newHarness(t)
	conv := h.must("instagram:alice", api.ActionConversationStart, map[string]any{"participants": []string{"instagram:dave"}}).ConversationID
	send := map[string]any{"command_id": uuid.NewString(), "actor": "instagram:eve", "conversation_id": conv, "text": "hi"}
	reply := h.traced(api.CommandSubject("instagram", api.ActionMessageSend), nats.Header{"traceparent": {testParent}}, send)
	if code := reply.Header.Get("Nats-Service-Error-Code"); code != "403" {
		t.Fatalf("reply %v %s, want 403", reply.Header, reply.Data)
	}
	if reply.Header.Get("traceparent") != testParent {
		t.Errorf("error reply headers %v, want traceparent", reply.Header)
	}
	var rec events.Event
	deadline := time.Now().Add(5 * time.Second)
	for rec.TraceParent == "" && time.Now().Before(deadline) {
		s, err := h.js.Stream(h.ctx, events.AuditStreamName)
		if err != nil {
			t.Fatal(err)
		}
		if info, err := s.Info(h.ctx); err == nil && info.State.LastSeq > 0 {
			rec = h.storedEvent(events.AuditStreamName, info.State.LastSeq)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rec.Type != events.CommandRejected || rec.TraceParent != testParent {
		t.Errorf("rejection record %+v, want traceparent %q", rec, testParent)
	}
}
