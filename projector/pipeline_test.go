package projector

import (
	"errors"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// TestPipelineAppliesInOrder feeds full runs (applied in the background)
// and a short one (applied inline): each is applied after the one before,
// and wait leaves the checkpoint at the last.
func TestPipelineAppliesInOrder(t *testing.T) {
	s := openStoreWith(t, Options{Dir: t.TempDir(), MaxBatch: 2, Logger: testkit.Quiet()})
	f := newFeed(t)
	id := events.NewID()
	f.start(id, alice, bob)
	f.send(id, events.NewID(), alice, "one")
	f.send(id, events.NewID(), bob, "two")
	f.send(id, events.NewID(), alice, "three")
	f.send(id, events.NewID(), bob, "four")
	msgs := f.take()
	p := s.pipeline()
	for _, run := range [][]events.Message{msgs[:2], msgs[2:4], msgs[4:]} {
		if err := p.feed(run); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.wait(); err != nil {
		t.Fatal(err)
	}
	if got := s.Checkpoint(); got != 5 {
		t.Fatalf("checkpoint %d after the pipeline, want 5", got)
	}
	page, err := s.Messages(id, alice, 10, "", afterV2)
	if err != nil || len(page.Items) != 4 {
		t.Fatalf("Messages = %d messages, %v; want 4", len(page.Items), err)
	}
}

// TestPipelineStopsAfterAFailure: once a background Apply failed, the next
// feed returns its error and applies nothing, and so does wait.
func TestPipelineStopsAfterAFailure(t *testing.T) {
	s := openStoreWith(t, Options{Dir: t.TempDir(), MaxBatch: 1, Logger: testkit.Quiet()})
	f := newFeed(t)
	f.start(events.NewID(), alice, bob)
	msgs := f.take()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	p := s.pipeline()
	if err := p.feed(msgs); err != nil {
		t.Fatalf("feed of a full run = %v, want nil (applied in the background)", err)
	}
	if err := p.feed(msgs); !errors.Is(err, ErrClosed) {
		t.Fatalf("feed after a failed Apply = %v, want ErrClosed", err)
	}
	if err := p.wait(); !errors.Is(err, ErrClosed) {
		t.Fatalf("wait = %v, want ErrClosed", err)
	}
}
