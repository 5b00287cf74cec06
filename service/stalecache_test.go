package service_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// A command refused on a cached state is decided again on the log's
// latest: another node may have appended what it needs. Here "another
// node" appends alice's message to the log directly, past this node's
// cache of the conversation; bob's reaction to it must be accepted, where
// it was refused message_not_found (13-18% of the load of the cluster test
// in internal/crashtest, finding 6 of docs/reliability.md).
func TestRefusalOnAStaleCacheIsDecidedAgain(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	start := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}})
	conv := start.ConversationID
	msg := uuid.NewString()
	subject := events.ConversationSubject(conv)
	ev, err := events.New(events.MessageSent, subject, h.clock.Now(), uuid.NewString(), 0,
		events.MessageSentData{MessageID: msg, Sender: alice, Text: "sent through another node"})
	if err != nil {
		t.Fatal(err)
	}
	prev, err := h.log.Load(h.ctx, subject, 0)
	if err != nil || len(prev) != 1 {
		t.Fatalf("the conversation's events: %d, %v", len(prev), err)
	}
	ev.ID, ev.StreamVersion, ev.PrevHash = events.NewID(), 2, events.Hash(prev[0].Data)
	if _, _, err := h.log.Append(h.ctx, subject, start.StreamSeq, uuid.NewString(), testkit.Encode(t, ev)); err != nil {
		t.Fatal(err)
	}
	h.must(bob, "message.react", map[string]any{"conversation_id": conv, "message_id": msg, "reaction": "👍"})
	h.refused("message_not_found", bob, "message.react", map[string]any{"conversation_id": conv, "message_id": uuid.NewString(), "reaction": "👍"})
}
