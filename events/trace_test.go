package events

import (
	"bytes"
	"testing"
)

// An event without a trace context encodes to the bytes it had before the
// distributed-tracing extension existed: TestNoPrincipalEncodesAsBefore
// pins those bytes, and this pins that an empty Trace changes nothing.
func TestNoTraceEncodesAsBefore(t *testing.T) {
	e := pinnedEvent(t)
	e.SetTrace(Trace{})
	b, err := Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != storedBefore {
		t.Fatalf("encoded\n%s\nwant\n%s", b, storedBefore)
	}
}

// A trace context travels as the CloudEvents distributed-tracing extension,
// after the principal, where the struct fields are, and reads back.
func TestTraceExtension(t *testing.T) {
	e := pinnedEvent(t)
	e.Principal = "instagram/instagram:alice"
	tr := Trace{Parent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", State: "congo=t61rcWkgMzE"}
	e.SetTrace(tr)
	b, err := Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte(`"principal":"instagram/instagram:alice","traceparent":"` + tr.Parent + `","tracestate":"` + tr.State + `","policyversion":2`)
	if !bytes.Contains(b, want) {
		t.Fatalf("encoded %s, want it to contain %s", b, want)
	}
	checkEncode(t, e)
	back, err := Decode(b)
	if err != nil || back.TraceParent != tr.Parent || back.TraceState != tr.State {
		t.Fatalf("decoded trace %q %q, %v", back.TraceParent, back.TraceState, err)
	}
	e.TraceState = ""
	checkEncode(t, e) // tracestate is optional on its own
}
