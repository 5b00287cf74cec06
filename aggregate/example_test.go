package aggregate_test

import (
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Decide a message.send against a conversation folded from its log. Decide
// is pure: it returns the event to append, and the state changes only when
// the stored event is folded back with Evolve.
func ExampleConversation_Decide() {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	policy := &aggregate.Policy{Version: 1, Name: "cross-app-2020", EffectiveAt: now.AddDate(-3, 0, 0),
		Links: []events.LinkData{
			{From: "instagram", To: "messenger", StartConversation: true, Send: true},
			{From: "messenger", To: "instagram", StartConversation: true, Send: true},
		}}
	conv := aggregate.NewConversation("0190c2d4-0000-7000-8000-000000000001")

	// Start the conversation and fold the stored event back in.
	started, _ := conv.Decide(aggregate.StartConversation{
		Meta:         aggregate.Meta{CommandID: "0190c2d4-0000-7000-8000-0000000000a1", App: "instagram", Actor: "instagram:alice"},
		Participants: []events.Account{"messenger:bob"},
	}, policy, now)
	stored, _ := events.Encode(started)
	rec, _ := events.Record(1, stored)
	_ = conv.Evolve(rec)

	sent, err := conv.Decide(aggregate.SendMessage{
		Meta:      aggregate.Meta{CommandID: "0190c2d4-0000-7000-8000-0000000000a2", App: "messenger", Actor: "messenger:bob"},
		MessageID: "0190c2d4-0000-7000-8000-0000000000f1",
		Text:      "hi alice",
	}, policy, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sent.Type, sent.StreamVersion, sent.PolicyVersion, sent.PrevHash == rec.Hash)
	fmt.Println(string(sent.Data))

	// A stranger is refused with a sentinel error.
	_, err = conv.Decide(aggregate.SendMessage{
		Meta: aggregate.Meta{CommandID: "0190c2d4-0000-7000-8000-0000000000a3", App: "instagram", Actor: "instagram:carol"},
		Text: "hello?",
	}, policy, now)
	fmt.Println(err)
	// Output:
	// crosstalk.message.sent.v1 2 1 true
	// {"message_id":"0190c2d4-0000-7000-8000-0000000000f1","sender":"messenger:bob","text":"hi alice"}
	// not a participant: instagram:carol is not in conversation 0190c2d4-0000-7000-8000-000000000001
}

// Rules are directional; same-app pairs are always allowed, and a pair with
// no rule is denied.
func ExamplePolicy_Allows() {
	p := &aggregate.Policy{Version: 3, Name: "one-way", Links: []events.LinkData{
		{From: "instagram", To: "messenger", Send: true},
	}}
	fmt.Println(p.Allows("instagram", "messenger", aggregate.ActionSend))
	fmt.Println(p.Allows("messenger", "instagram", aggregate.ActionSend))
	fmt.Println(p.Allows("instagram", "messenger", aggregate.ActionCall))
	fmt.Println(p.Allows("messenger", "messenger", aggregate.ActionCall))
	// A conversation needs every ordered pair of its apps:
	fmt.Println(p.AllowsAmong([]events.App{"instagram", "messenger"}, aggregate.ActionSend))
	// Output:
	// true
	// false
	// false
	// true
	// false
}
