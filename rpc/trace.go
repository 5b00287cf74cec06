package rpc

import (
	"context"
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/crosstalk-dev/crosstalk/events"
)

// The W3C trace-context header names, lowercase as the W3C spells them.
const (
	traceParentHeader = "traceparent"
	traceStateHeader  = "tracestate"
)

// traceContext parses and writes W3C trace context. crosstalk makes no spans
// of its own: it carries the producer's context into the event and the
// reply, so the producer's trace continues into the log.
var traceContext = propagation.TraceContext{}

// headerCarrier reads a request's trace context from its NATS headers for
// the propagator. nats.Header keys are case-sensitive, unlike HTTP's, so
// Get takes the W3C's lowercase name as sent and, failing that, any other
// casing: a producer that injected through propagation.HeaderCarrier (an
// http.Header) sent "Traceparent". With several casings the lowercase one
// wins, then the first in sorted order, so the choice never depends on map
// order.
type headerCarrier nats.Header

// Get returns the first value of key in any casing, preferring key itself.
func (h headerCarrier) Get(key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	best := ""
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, key) && (best == "" || k < best) {
			best = k
		}
	}
	if best == "" {
		return ""
	}
	return h[best][0]
}

// Set is not used: the carrier is only read.
func (h headerCarrier) Set(key, value string) { h[key] = []string{value} }

// Keys lists the header names.
func (h headerCarrier) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}

// TraceOf returns the trace context of request headers h as the propagator
// writes it back: a malformed or absent traceparent is no trace context
// (the W3C rule: a receiver ignores what it cannot parse), and a tracestate
// travels only with a valid traceparent.
func TraceOf(h nats.Header) events.Trace {
	if len(h) == 0 {
		return events.Trace{}
	}
	ctx := traceContext.Extract(context.Background(), headerCarrier(h))
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return events.Trace{}
	}
	out := propagation.MapCarrier{}
	traceContext.Inject(ctx, out)
	return events.Trace{Parent: out[traceParentHeader], State: out[traceStateHeader]}
}

// SetTraceHeaders writes t into reply headers h under the W3C's lowercase
// names, whatever casing the request used.
func SetTraceHeaders(h nats.Header, t events.Trace) {
	if t.Parent == "" {
		return
	}
	h[traceParentHeader] = []string{t.Parent}
	if t.State != "" {
		h[traceStateHeader] = []string{t.State}
	}
}

// traceKey is the context key of a request's trace context.
type traceKey struct{}

// WithTrace returns ctx carrying t, for the command path to record.
func WithTrace(ctx context.Context, t events.Trace) context.Context {
	if t.Parent == "" {
		return ctx
	}
	return context.WithValue(ctx, traceKey{}, t)
}

// TraceFrom returns the trace context WithTrace put in ctx, if any.
func TraceFrom(ctx context.Context) events.Trace {
	t, _ := ctx.Value(traceKey{}).(events.Trace)
	return t
}
