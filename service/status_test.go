package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

// Undecodable bytes published into the stream by someone else are skipped
// and reported by crosstalk.query.status; the service carries on.
func TestStatusReportsLagAndPoison(t *testing.T) {
	h := newHarness(t)
	var raw json.RawMessage
	h.mustQuery("status", map[string]any{}, &raw)
	if !bytes.Contains(raw, []byte(`"poisoned":[]`)) {
		t.Fatalf("status with nothing poisoned: %s, want \"poisoned\":[] (a list, not null)", raw)
	}
	conv := h.must(bob, "conversation.start", map[string]any{"participants": []events.Account{carol}}).ConversationID
	ack, err := h.js.Publish(h.ctx, events.ConversationSubject("intruder"), []byte("not an event"), jetstream.WithExpectLastSequencePerSubject(0))
	if err != nil {
		t.Fatal(err)
	}
	h.must(carol, "message.send", map[string]any{"conversation_id": conv, "text": "after the poison"})
	var st api.Status
	h.mustQuery("status", map[string]any{}, &st)
	if st.Lag != 0 || st.StreamLastSeq != st.ViewsCheckpoint || len(st.Poisoned) != 1 || st.Poisoned[0].Seq != ack.Sequence {
		t.Fatalf("status: %+v", st)
	}
}

// stalledLog is the real event log whose reader (the projector's) does not
// start until released: a projector stuck behind a slow disk or a backlog.
type stalledLog struct {
	*eventlog.Log
	release chan struct{}
}

func (l stalledLog) Read(ctx context.Context, from uint64, max int, fn func([]events.Message) error) error {
	select {
	case <-l.release:
	case <-ctx.Done():
		return nil
	}
	return l.Log.Read(ctx, from, max, fn)
}

// Commands never wait for the read model: with the projector stalled they
// are answered, the lag shows in the status, and it drains once released.
func TestCommandsDoNotWaitForTheViews(t *testing.T) {
	h := newHarness(t)
	h.stop()
	store, err := projector.Open(projector.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	stalled := stalledLog{Log: h.log, release: make(chan struct{})}
	svc := service.New(h.nc, stalled, store, service.Options{Clock: h.clock})
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-svc.Ready()
	conv := h.must(bob, "conversation.start", map[string]any{"participants": []events.Account{carol}}).ConversationID
	for range 20 {
		h.must(carol, "message.send", map[string]any{"conversation_id": conv, "text": "x"})
	}
	st, err := svc.Status(h.ctx)
	if err != nil || st.Lag != 21 || st.ViewsCheckpoint != 0 {
		t.Fatalf("while stalled: %+v %v", st, err)
	}
	close(stalled.release)
	testkit.WaitApplied(t, store, st.StreamLastSeq) // the views catch up once released
}
