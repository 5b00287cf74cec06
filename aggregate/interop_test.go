package aggregate

import (
	"errors"
	"os"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
)

// The DMA rules, read against docs/policies/v3-dma-thirdparty.json: a
// birdychat account may reach an opted-in messenger account, one to one,
// without calls; instagram and messenger stay apart.
func loadV3(t *testing.T) *Policy {
	t.Helper()
	b, err := os.ReadFile("../docs/policies/v3-dma-thirdparty.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePolicy(b)
	if err != nil {
		t.Fatal(err)
	}
	return &p
}

const (
	birdy  = events.Account("thirdparty-birdychat:tweety")
	birdy2 = events.Account("thirdparty-birdychat:robin")
	mBob   = events.Account("messenger:bob")
	mCarol = events.Account("messenger:carol")
)

func startBy(actor events.Account, optedIn map[events.Account]bool, with ...events.Account) StartConversation {
	return StartConversation{
		Meta:         Meta{CommandID: events.NewID(), App: actor.App(), Actor: actor},
		Participants: with, OptedIn: optedIn,
	}
}

func TestInteropStartNeedsOptIn(t *testing.T) {
	v3 := loadV3(t)
	cases := []struct {
		name    string
		cmd     StartConversation
		allowed bool
	}{
		{"birdychat to a messenger account that has not opted in", startBy(birdy, nil, mBob), false},
		{"birdychat to an opted-in messenger account", startBy(birdy, map[events.Account]bool{mBob: true}, mBob), true},
		{"messenger to birdychat, the messenger account not opted in", startBy(mBob, nil, birdy), false},
		{"opted-in messenger account to birdychat", startBy(mBob, map[events.Account]bool{mBob: true}, birdy), true},
		{"no groups: three participants", startBy(birdy, map[events.Account]bool{mBob: true, mCarol: true}, mBob, mCarol), false},
		{"no groups even on the birdychat side", startBy(mBob, map[events.Account]bool{mBob: true}, birdy, birdy2), false},
		{"instagram and messenger stay apart", startBy("instagram:alice", map[events.Account]bool{mBob: true}, mBob), false},
		{"same-app groups are unaffected", startBy(mBob, nil, mCarol, "messenger:dan"), true},
	}
	for _, c := range cases {
		_, err := NewConversation(convID).Decide(c.cmd, v3, defaultNow)
		if c.allowed && err != nil {
			t.Errorf("%s: want allowed, got %v", c.name, err)
		}
		if !c.allowed && !errors.Is(err, ErrCrossAppNotAllowed) {
			t.Errorf("%s: want ErrCrossAppNotAllowed, got %v", c.name, err)
		}
	}
	if !v3.NeedsOptIn([]events.App{"messenger", "thirdparty-birdychat"}) || v3.NeedsOptIn([]events.App{"instagram", "messenger"}) {
		t.Error("NeedsOptIn must be true exactly for the birdychat-messenger pair")
	}
}

func TestInteropNoCalls(t *testing.T) {
	v3 := loadV3(t)
	c := NewConversation(convID)
	evolveDecided(t, c, startBy(birdy, map[events.Account]bool{mBob: true}, mBob), v3)
	call := StartCall{Meta: Meta{CommandID: events.NewID(), App: "messenger", Actor: mBob}, Media: "audio"}
	if _, err := c.Decide(call, v3, defaultNow); !errors.Is(err, ErrCallNotAllowed) {
		t.Fatalf("v3 allows no calls: %v", err)
	}
	send := SendMessage{Meta: Meta{CommandID: events.NewID(), App: "messenger", Actor: mBob}, Text: "hi birdy"}
	if _, err := c.Decide(send, v3, defaultNow); err != nil {
		t.Fatalf("v3 lets them send: %v", err)
	}
}

// Withdrawing the opt-in closes the conversation with reason opt_out; the
// same close with the opt-in still given is not affected.
func TestInteropOptOutCloses(t *testing.T) {
	v3 := loadV3(t)
	c := NewConversation(convID)
	evolveDecided(t, c, startBy(birdy, map[events.Account]bool{mBob: true}, mBob), v3)
	stay := Close{CommandID: events.NewID(), Policy: v3, OptedIn: map[events.Account]bool{mBob: true}}
	if _, err := c.Decide(stay, v3, defaultNow); !errors.Is(err, ErrNotAffected) {
		t.Fatalf("still opted in: want ErrNotAffected, got %v", err)
	}
	e, err := c.Decide(Close{CommandID: events.NewID(), Policy: v3}, v3, defaultNow)
	if err != nil {
		t.Fatal(err)
	}
	var d events.ConversationClosedData
	if err := e.DecodeData(&d); err != nil || d.Reason != events.ClosedByOptOut || d.PolicyVersion != 3 {
		t.Fatalf("opt-out close: %+v %v", d, err)
	}
}

func TestInteropSettings(t *testing.T) {
	a := NewAccount(mBob)
	if a.InteropOptIn {
		t.Fatal("opt-in is off by default")
	}
	yes := true
	e, err := a.Decide(ChangeSettings{Meta: Meta{CommandID: events.NewID(), App: "messenger", Actor: mBob}, InteropOptIn: &yes}, nil, defaultNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Evolve(record(t, 1, e)); err != nil {
		t.Fatal(err)
	}
	if !a.InteropOptIn || !a.ShowActivityStatus || !a.SendReadReceipts {
		t.Fatalf("opt-in set, other settings kept: %+v", a)
	}
}

func TestMaxParticipantsValidated(t *testing.T) {
	p := Policy{Version: 1, Name: "x", EffectiveAt: defaultNow, Links: []events.LinkData{{From: "a1", To: "b1", MaxParticipants: 1}}}
	if err := p.Validate(); !errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("max_participants 1 is meaningless: %v", err)
	}
}

func evolveDecided(t *testing.T, c *Conversation, cmd Command, p *Policy) {
	t.Helper()
	e, err := c.Decide(cmd, p, defaultNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Evolve(record(t, c.Stream.LastSeq+1, e)); err != nil {
		t.Fatal(err)
	}
}
