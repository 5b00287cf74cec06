package aggregate

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// Edges that are awkward to write as testdata scenarios.

func record(t *testing.T, seq uint64, e events.Event) events.Recorded {
	t.Helper()
	e.ID = events.DerivedID(defaultNow, fmt.Sprint("edge ", seq))
	r, err := events.Record(seq, testkit.Encode(t, e))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newEvent(t *testing.T, typ events.Type, subject string, data any) events.Event {
	t.Helper()
	e, err := events.New(typ, subject, defaultNow, "", 0, data)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEvolveRefusesMalformedData(t *testing.T) {
	bad := func(typ events.Type) events.Recorded {
		e := newEvent(t, typ, convID, nil)
		e.Data = []byte(`["not", "an", "object"]`)
		return record(t, 1, e)
	}
	for _, typ := range []events.Type{events.ConversationStarted, events.MessageSent, events.MessageUnsent,
		events.MessageRead, events.CallStarted, events.ConversationClosed} {
		if err := NewConversation(convID).Evolve(bad(typ)); !errors.Is(err, events.ErrMalformedEvent) {
			t.Errorf("conversation %s: got %v, want ErrMalformedEvent", typ, err)
		}
	}
	for _, typ := range []events.Type{events.PresenceChanged, events.SettingsChanged} {
		if err := NewAccount("instagram:alice").Evolve(bad(typ)); !errors.Is(err, events.ErrMalformedEvent) {
			t.Errorf("account %s: got %v, want ErrMalformedEvent", typ, err)
		}
	}
	if err := (&Policies{}).Evolve(bad(events.PolicyPublished)); !errors.Is(err, events.ErrMalformedEvent) {
		t.Errorf("policies: got %v, want ErrMalformedEvent", err)
	}
}

// The log is the truth: Evolve records events it would not have decided
// (a read of an unknown message) without failing, and counts them.
func TestEvolveAcceptsWhatItWouldNotDecide(t *testing.T) {
	c := NewConversation(convID)
	started := events.ConversationStartedData{ConversationID: convID,
		Participants: []events.Account{"instagram:alice", "instagram:bob"}}
	read := events.MessageReadData{MessageID: events.NewID(), Account: "instagram:bob"}
	for i, e := range []events.Event{
		newEvent(t, events.ConversationStarted, convID, started),
		newEvent(t, events.MessageRead, convID, read),
	} {
		if err := c.Evolve(record(t, uint64(10+i), e)); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	if c.Stream.Version != 2 || c.Stream.LastSeq != 11 {
		t.Errorf("stream = %+v, want version 2 at seq 11", c.Stream)
	}
	// Events without a causation id are not remembered as commands.
	if _, ok := c.Stream.Prior(""); ok {
		t.Error("Prior(\"\") found an event")
	}
}

func TestStartAtMostMaxParticipants(t *testing.T) {
	var with []events.Account
	for i := 0; i < api.MaxParticipants; i++ {
		with = append(with, events.Account(fmt.Sprintf("instagram:u%d", i)))
	}
	cmd := StartConversation{Meta: Meta{CommandID: events.NewID(), App: "instagram", Actor: "instagram:alice"}}
	cmd.Participants = with[:api.MaxParticipants-1]
	if _, err := NewConversation(convID).Decide(cmd, nil, defaultNow); err != nil {
		t.Fatalf("%d participants: %v", api.MaxParticipants, err)
	}
	cmd.Participants = with
	if _, err := NewConversation(convID).Decide(cmd, nil, defaultNow); !errors.Is(err, ErrInvalid) {
		t.Fatalf("%d participants: got %v, want ErrInvalid", api.MaxParticipants+1, err)
	}
}

func TestPoliciesGetAndLatest(t *testing.T) {
	ps := &Policies{}
	if ps.Latest() != 0 || ps.InForce(defaultNow) != nil {
		t.Fatal("empty Policies has a version")
	}
	ids := map[uint64]string{}
	for i, v := range []uint64{3, 1} { // stored out of order: Versions stays sorted
		p := Policy{Version: v, Name: fmt.Sprint("p", v), EffectiveAt: defaultNow.Add(-time.Hour)}
		r := record(t, uint64(i+1), newEvent(t, events.PolicyPublished, "policy", p.Data()))
		ids[v] = r.Event.ID
		if err := ps.Evolve(r); err != nil {
			t.Fatal(err)
		}
	}
	for v, id := range ids {
		if got := ps.EventID(v); got != id {
			t.Errorf("EventID(%d) = %q, want %q", v, got, id)
		}
	}
	if got := ps.EventID(2); got != "" {
		t.Errorf("EventID(2) = %q for a version never published", got)
	}
	if ps.Latest() != 3 {
		t.Errorf("Latest = %d, want 3", ps.Latest())
	}
	if p, ok := ps.Get(1); !ok || p.Name != "p1" {
		t.Errorf("Get(1) = %+v, %t", p, ok)
	}
	if _, ok := ps.Get(2); ok {
		t.Error("Get(2) found a version never published")
	}
}

func TestActionNames(t *testing.T) {
	for i, want := range actionNames {
		if got := Action(i).String(); got != want {
			t.Errorf("Action(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestPolicyDataRoundTrip(t *testing.T) {
	p := Policy{Version: 2, Name: "n", EffectiveAt: defaultNow,
		Links: []events.LinkData{{From: "instagram", To: "messenger", Send: true}}}
	back := PolicyFromData(p.Data())
	if back.EffectiveAt.Location() != time.UTC || !back.EffectiveAt.Equal(p.EffectiveAt) ||
		back.Version != 2 || back.Name != "n" || len(back.Links) != 1 || !back.Links[0].Send {
		t.Errorf("round trip = %+v", back)
	}
}

func TestPolicyNameLength(t *testing.T) {
	p := Policy{Version: 1, EffectiveAt: defaultNow}
	for n, want := range map[int]bool{1: true, 200: true, 201: false} {
		p.Name = strings.Repeat("n", n)
		if err := p.Validate(); (err == nil) != want {
			t.Errorf("name of %d bytes: Validate = %v", n, err)
		}
	}
}

// A retried command is answered from memory for the last PriorLimit
// commands; older ones are forgotten (the stream's dedup window answers
// them), so state does not grow with every message.
func TestPriorIsBounded(t *testing.T) {
	var s Stream
	for i := range PriorLimit + 10 {
		s.advance(events.Recorded{Seq: uint64(i + 1), Event: events.Event{CausationID: fmt.Sprint("cmd", i)}}, "")
	}
	if _, ok := s.Prior("cmd0"); ok {
		t.Fatal("the oldest command is still remembered")
	}
	if p, ok := s.Prior(fmt.Sprint("cmd", PriorLimit+9)); !ok || p.Seq != PriorLimit+10 {
		t.Fatalf("the newest command is forgotten: %+v %v", p, ok)
	}
	if len(s.prior) != PriorLimit || s.Version != PriorLimit+10 {
		t.Fatalf("remembers %d commands, version %d", len(s.prior), s.Version)
	}
}

// Found by FuzzParsePolicy's author: times outside years 1-9999 UTC cannot
// be encoded as RFC 3339, so they are an invalid policy, not a 500.
func TestPolicyTimeOutOfRange(t *testing.T) {
	for _, at := range []string{"0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"} {
		_, err := ParsePolicy([]byte(`{"version":1,"name":"n","effective_at":"` + at + `","links":[]}`))
		if !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("%s: want ErrInvalidPolicy, got %v", at, err)
		}
	}
}
