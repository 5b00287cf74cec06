package testkit

import (
	"reflect"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Every registered type has a sample of its own payload type, with every id
// its data has set, that survives being stored and read back.
func TestEveryRegisteredTypeHasASample(t *testing.T) {
	for _, info := range events.Registry {
		p, ok := SamplePayload(info.Type)
		if !ok {
			t.Errorf("no sample of %s: add one to payloads", info.Type)
			continue
		}
		if p.EventType() != info.Type || reflect.TypeOf(p) != reflect.TypeOf(info.New()).Elem() {
			t.Errorf("%s: the sample is a %T", info.Type, p)
		}
		msg, call := p.IDs()
		v := reflect.ValueOf(p)
		if v.FieldByName("MessageID").IsValid() && msg == "" || v.FieldByName("CallID").IsValid() && call == "" {
			t.Errorf("%s: the sample's IDs() = %q, %q miss an id its data has", info.Type, msg, call)
		}
		r, err := SampleRecorded(info.Type, 1)
		if err != nil {
			t.Fatalf("%s: %v", info.Type, err)
		}
		if r.Event.Type != info.Type {
			t.Errorf("%s: stored and read back as %s", info.Type, r.Event.Type)
		}
	}
	if len(payloads) != len(events.Registry) {
		t.Errorf("%d samples for %d registered types", len(payloads), len(events.Registry))
	}
}

// HeapPeak sees memory the process holds while it samples.
func TestHeapPeak(t *testing.T) {
	stop := HeapPeak()
	hold := make([][]byte, 0, 64)
	for range 64 {
		hold = append(hold, make([]byte, 1<<20))
	}
	time.Sleep(50 * time.Millisecond)
	peak := stop()
	if peak < 64<<20 {
		t.Errorf("peak %d bytes while holding 64 MiB", peak)
	}
	_ = hold[63][0]
}
