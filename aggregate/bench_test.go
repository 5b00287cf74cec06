package aggregate_test

import (
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// BenchmarkDecide is the CPU the command path spends on one message.send
// besides NATS: Decide against a started conversation, encode the event,
// hash it, and Evolve the conversation with it, as service.decideAndAppend
// does after the append.
func BenchmarkDecide(b *testing.B) {
	now := time.Date(2023, 12, 1, 12, 0, 0, 0, time.UTC)
	policy := &aggregate.Policy{Version: 1, Name: "cross-app-2020", EffectiveAt: now.AddDate(-3, 0, 0),
		Links: []events.LinkData{
			{From: "instagram", To: "messenger", StartConversation: true, Send: true},
			{From: "messenger", To: "instagram", StartConversation: true, Send: true},
		}}
	conv := aggregate.NewConversation(events.NewID())
	started, err := conv.Decide(aggregate.StartConversation{
		Meta:         aggregate.Meta{CommandID: events.NewID(), App: "instagram", Actor: "instagram:alice"},
		Participants: []events.Account{"messenger:bob"},
	}, policy, now)
	if err != nil {
		b.Fatal(err)
	}
	evolve(b, conv, 1, started)
	commands := make([]string, 1024)
	for i := range commands {
		commands[i] = events.NewID()
	}
	text := "a message of ordinary length, about sixty-four bytes of text...."
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// Message ids derive from the command and the clock, so moving
		// the clock keeps them unique while command ids repeat.
		at := now.Add(time.Duration(i) * time.Millisecond)
		ev, err := conv.Decide(aggregate.SendMessage{
			Meta: aggregate.Meta{CommandID: commands[i%len(commands)], App: "messenger", Actor: "messenger:bob"},
			Text: text,
		}, policy, at)
		if err != nil {
			b.Fatal(err)
		}
		evolve(b, conv, uint64(i)+2, ev)
	}
}

// evolve stores e at seq as the service would: encode, hash, fold.
func evolve(b *testing.B, conv *aggregate.Conversation, seq uint64, e events.Event) {
	data := testkit.Encode(b, e)
	if err := conv.Evolve(events.Recorded{Seq: seq, Hash: events.Hash(data), Event: e}); err != nil {
		b.Fatal(err)
	}
}
