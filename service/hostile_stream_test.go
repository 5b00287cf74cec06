package service_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/service"
)

// Class "stream configuration": someone with stream-admin rights edits the
// stream CROSSTALK under a running service (nats stream edit). The service
// notices at once (JetStream's advisory), or at the latest within
// StreamCheckInterval, says what changed, refuses appends
// with 503 stream_misconfigured until the configuration is restored, and
// then appends again.

var _ = hostile("stream configuration", "nats stream edit --max-msgs=3 deletes history", func(t *testing.T) {
	h := newHarness(t)
	h.restart(service.Options{StreamCheckInterval: 20 * time.Millisecond})
	h.publishFile("v1-2020-cross-app.json")
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	for range 3 {
		h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "history"})
	}
	h.editStream(func(c *jetstream.StreamConfig) { c.MaxMsgs = 3 })
	h.wantStreamProblem("max_msgs 3")
	h.refusedMisconfigured("max_msgs 3", alice, "conversation.start", map[string]any{"participants": []events.Account{bob}})
	h.refusedMisconfigured("max_msgs 3", bob, "presence.set", map[string]any{"status": "active"})

	h.editStream(func(c *jetstream.StreamConfig) { c.MaxMsgs = -1 })
	h.wantStreamProblem("")
	h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}})
	h.must(bob, "presence.set", map[string]any{"status": "active"})
})

var _ = hostile("stream configuration", "nats stream edit --subjects takes the events elsewhere", func(t *testing.T) {
	h := newHarness(t)
	h.restart(service.Options{StreamCheckInterval: 20 * time.Millisecond})
	h.publishFile("v1-2020-cross-app.json")
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	h.editStream(func(c *jetstream.StreamConfig) { c.Subjects = []string{"elsewhere.>"} })
	h.wantStreamProblem("do not capture crosstalk.events.>")
	h.refusedMisconfigured("subjects", alice, "message.send", map[string]any{"conversation_id": conv, "text": "lost?"})

	h.editStream(func(c *jetstream.StreamConfig) { c.Subjects = []string{events.StreamSubjects} })
	h.wantStreamProblem("")
	h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "stored"})
})

var _ = hostile("stream configuration", "an edit is noticed at once, not at the next periodic check", func(t *testing.T) {
	h := newHarness(t)
	h.restart(service.Options{StreamCheckInterval: time.Hour}) // only JetStream's advisory can tell it
	h.publishFile("v1-2020-cross-app.json")
	h.editStream(func(c *jetstream.StreamConfig) { c.MaxMsgs = 3 })
	h.wantStreamProblem("max_msgs 3")
	h.refusedMisconfigured("max_msgs 3", alice, "conversation.start", map[string]any{"participants": []events.Account{bob}})
	h.editStream(func(c *jetstream.StreamConfig) { c.MaxMsgs = -1 })
	h.wantStreamProblem("")
	h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}})
})

// editStream changes the stream's configuration as nats stream edit does,
// over the service's own connection.
func (h *harness) editStream(edit func(*jetstream.StreamConfig)) {
	h.t.Helper()
	info, err := h.log.Info(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	cfg := info.Config
	edit(&cfg)
	if _, err := h.js.UpdateStream(h.ctx, cfg); err != nil {
		h.t.Fatalf("edit stream: %v", err)
	}
}

// wantStreamProblem waits until crosstalk.query.status and Healthy report a
// stream problem containing want, or none when want is "".
func (h *harness) wantStreamProblem(want string) {
	h.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		// No min_seq: this is about the stream's configuration, not about
		// how far the views got (an edit that deletes history can hold
		// the projector's reader for a while).
		var st api.Status // stream_problem is omitted when empty
		if err := h.c.Query(h.ctx, "status", map[string]any{}, &st); err != nil {
			h.t.Fatalf("query status: %v", err)
		}
		healthy := h.svc.Healthy()
		got := want == "" && st.StreamProblem == "" && healthy == nil
		if want != "" && strings.Contains(st.StreamProblem, want) {
			got = errors.Is(healthy, eventlog.ErrStreamMisconfigured) && strings.Contains(healthy.Error(), want)
		}
		if got {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("stream problem %q never reported: status %q, Healthy %v", want, st.StreamProblem, healthy)
		}
	}
}

// refusedMisconfigured checks that a command is refused with 503
// stream_misconfigured, a message naming what changed, and nothing stored.
func (h *harness) refusedMisconfigured(names string, actor events.Account, action string, body map[string]any) {
	h.t.Helper()
	err := h.refused(api.CodeStreamMisconfigured, actor, action, body)
	if err.Status != "503" || !strings.Contains(err.Message, names) {
		h.t.Fatalf("%s refused with %v; want status 503 and a message naming %q", action, err, names)
	}
}
