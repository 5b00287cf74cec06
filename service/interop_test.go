package service_test

import (
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

const (
	tweety = events.Account("thirdparty-birdychat:tweety")
	robin  = events.Account("thirdparty-birdychat:robin")
)

// DMA interoperability as a policy: docs/policies/v3-dma-thirdparty.json lets
// birdychat exchange one-to-one messages with opted-in Messenger accounts.
func TestDMAInteropIsOptIn(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	h.publishFile("v2-2023-12-cross-app-disconnect.json")
	h.publishFile("v3-dma-thirdparty.json")
	h.clock.Set(time.Date(2024, 3, 8, 9, 0, 0, 0, time.UTC))
	h.waitApplied(3)

	h.refused("cross_app_not_allowed", tweety, "conversation.start", map[string]any{"participants": []events.Account{bob}})
	h.must(bob, "settings.set", map[string]any{"interop_opt_in": true})
	conv := h.must(tweety, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	m1 := h.must(tweety, "message.send", map[string]any{"conversation_id": conv, "text": "hello from birdychat"}).MessageID
	h.must(bob, "message.send", map[string]any{"conversation_id": conv, "text": "hi from Messenger"})
	h.must(bob, "message.read", map[string]any{"conversation_id": conv, "message_id": m1})
	h.refused("call_not_allowed", bob, "call.start", map[string]any{"conversation_id": conv, "media": "audio"})
	h.refused("cross_app_not_allowed", tweety, "conversation.start", map[string]any{"participants": []events.Account{bob, carol}})
	h.refused("cross_app_not_allowed", bob, "conversation.start", map[string]any{"participants": []events.Account{tweety, robin}})
	h.refused("cross_app_not_allowed", alice, "conversation.start", map[string]any{"participants": []events.Account{bob}})
	pre := h.lastSeq()
	before := h.history(pre)

	h.must(bob, "settings.set", map[string]any{"interop_opt_in": false})
	view := h.waitClosed(conv)
	if view.CloseReason != "opt_out" || view.ClosedByPolicy != 0 {
		t.Fatalf("opting out closes with reason opt_out: %+v", view)
	}
	h.refused("conversation_closed", tweety, "message.send", map[string]any{"conversation_id": conv, "text": "still there?"})
	var m api.MessagePage
	h.mustQuery("messages", map[string]any{"conversation_id": conv, "viewer": bob}, &m)
	if len(m.Items) != 2 {
		t.Fatalf("history stays readable after the opt-out: %+v", m.Items)
	}
	after := h.history(pre)
	for i := range before {
		if string(before[i]) != string(after[i]) {
			t.Fatalf("seq %d changed", i+1)
		}
	}
	h.checkPebbleHistory()
}

// waitClosed polls the conversation view until it is closed.
func (h *harness) waitClosed(conv string) api.ConversationView {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var v api.ConversationView
		h.mustQuery("conversation", map[string]any{"conversation_id": conv}, &v)
		if v.Closed {
			return v
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("conversation %s not closed within 10s", conv)
	return api.ConversationView{}
}
