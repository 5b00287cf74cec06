package aggregate

import (
	"bytes"
	"errors"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// TestClosingStateDecidesAsTheFoldedConversation folds a cross-app
// conversation with messages and a read, then decides policy v2's Close
// against it and against ClosingState built from what a read model knows:
// the two events must be byte for byte the same, and a closed or
// unaffected conversation must be refused the same way by both.
func TestClosingStateDecidesAsTheFoldedConversation(t *testing.T) {
	alice, bob := events.Account("instagram:alice"), events.Account("messenger:bob")
	folded := NewConversation(convID)
	evs := []events.Event{
		newEvent(t, events.ConversationStarted, convID, events.ConversationStartedData{
			Participants: []events.Account{alice, bob}, CrossApp: true}),
		newEvent(t, events.MessageSent, convID, events.MessageSentData{MessageID: "m1", Sender: alice, Text: "hi"}),
		newEvent(t, events.MessageRead, convID, events.MessageReadData{MessageID: "m1", Account: bob}),
	}
	for i, e := range evs {
		if err := folded.Evolve(record(t, uint64(10+i), e)); err != nil {
			t.Fatal(err)
		}
	}
	deny := mustPolicy(t, `{"version":2,"name":"off","effective_at":"2023-12-14T00:00:00Z","links":[]}`)
	cmd := Close{CommandID: "policy-event-2", Policy: deny}
	head := ClosingState(convID, folded.Participants, folded.Closed, folded.Stream)
	want, err := folded.Decide(cmd, deny, defaultNow)
	if err != nil {
		t.Fatal(err)
	}
	got, err := head.Decide(cmd, deny, defaultNow)
	if err != nil {
		t.Fatal(err)
	}
	if w, g := testkit.Encode(t, want), testkit.Encode(t, got); !bytes.Equal(w, g) {
		t.Fatalf("closing from the head:\n%s\nfolded:\n%s", g, w)
	}

	if err := folded.Evolve(record(t, 20, want)); err != nil {
		t.Fatal(err)
	}
	closed := ClosingState(convID, folded.Participants, folded.Closed, folded.Stream)
	if _, err := closed.Decide(cmd, deny, defaultNow); !errors.Is(err, ErrConversationClosed) {
		t.Fatalf("closing a closed head: err = %v, want ErrConversationClosed", err)
	}
	allow := mustPolicy(t, `{"version":3,"name":"on","effective_at":"2024-01-01T00:00:00Z","links":[
		{"from":"instagram","to":"messenger","start_conversation":true,"send":true},
		{"from":"messenger","to":"instagram","start_conversation":true,"send":true}]}`)
	open := ClosingState(convID, []events.Account{alice, bob}, false, Stream{Version: 3, LastSeq: 12})
	if _, err := open.Decide(Close{CommandID: "p3", Policy: allow}, allow, defaultNow); !errors.Is(err, ErrNotAffected) {
		t.Fatalf("closing under a policy that allows it: err = %v, want ErrNotAffected", err)
	}
}

func mustPolicy(t *testing.T, js string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return &p
}
