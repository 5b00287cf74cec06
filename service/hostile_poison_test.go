package service_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/service"
)

// Class "poison": a message published straight into an aggregate's subject
// (a conversation, an account, the policy subject) that is not an event of
// that aggregate, or not on its chain. The command side skips it, records
// it, and the aggregate, the account and the service stay available.

var _ = hostile("poison", "a non-event published into a conversation's subject", func(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "before"})
	poison := h.inject(events.ConversationSubject(conv), []byte("not an event"))
	after := h.must(bob, "message.send", map[string]any{"conversation_id": conv, "text": "after the poison"})
	if after.Version != 4 {
		t.Fatalf("the send after the poison must count it (version 4: start, send, poison, send): %+v", after)
	}
	h.restart(service.Options{}) // a cold load of the conversation
	h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "after a restart"})
	h.wantPoisoned(poison, "malformed event")
	h.wantOnlyBreakAt(poison, audit.BreakUndecodable)
})

var _ = hostile("poison", "a non-event published into an account's subject", func(t *testing.T) {
	h := newHarness(t)
	h.must(bob, "presence.set", map[string]any{"status": "active"})
	poison := h.inject(events.AccountSubject(bob), []byte(`{"specversion":"1.0","garbage":true}`))
	h.must(bob, "presence.set", map[string]any{"status": "idle"})
	h.must(bob, "settings.set", map[string]any{"interop_opt_in": true})
	h.restart(service.Options{})
	h.must(bob, "presence.set", map[string]any{"status": "offline"})
	h.wantPoisoned(poison, "malformed event")
	h.wantOnlyBreakAt(poison, audit.BreakUndecodable)
})

var _ = hostile("poison", "a non-event published into the policy subject, then a restart", func(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	poison := h.inject(events.PolicySubject, []byte("\x00\x01 not json"))
	h.restart(service.Options{}) // serve must start with a poisoned policy subject
	v2 := h.publishFile("v2-2023-12-cross-app-disconnect.json")
	if v2.Version != 2 || v2.Duplicate {
		t.Fatalf("publish after the poison: %+v", v2)
	}
	h.wantPoisoned(poison, "malformed event")
	h.wantOnlyBreakAt(poison, audit.BreakUndecodable)
})

// Before the rule, an event of another aggregate on the policy subject was
// folded as a policy: version 0, no links, in force from the year 1.
var _ = hostile("poison", "an event of another aggregate published into the policy subject", func(t *testing.T) {
	h := newHarness(t)
	e := h.forged(events.PresenceChanged, "instagram:mallory", events.PresenceChangedData{Account: "instagram:mallory", Status: events.StatusActive}, 1, "")
	poison := h.inject(events.PolicySubject, e)
	h.restart(service.Options{})
	var st api.Status
	h.mustQuery("status", map[string]any{}, &st)
	if st.PolicyVersion != 0 {
		t.Fatalf("no policy was published, yet version %d is in force", st.PolicyVersion)
	}
	if r := h.publishFile("v1-2020-cross-app.json"); r.Version != 1 {
		t.Fatalf("publish v1: %+v", r)
	}
	h.wantPoisoned(poison, "does not belong on subject")
})

// A well-formed event that does not chain to the subject's previous message
// (a replayed or hand-made one): before the rule, a forged
// conversation.closed closed the conversation for the command side.
var _ = hostile("poison", "a well-formed event off the conversation's chain", func(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	closed := h.forged(events.ConversationClosed, conv, events.ConversationClosedData{Reason: "forged"}, 2, strings.Repeat("0", 64))
	poison := h.inject(events.ConversationSubject(conv), closed)
	h.must(bob, "message.send", map[string]any{"conversation_id": conv, "text": "still open"})
	h.restart(service.Options{})
	h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "still open after a restart"})
	h.wantPoisoned(poison, "off its subject's chain")
	h.wantOnlyBreakAt(poison, audit.BreakPrevHash)
})

// The policy closer decides most closings from the views' head of a
// conversation, which does not count a message the views skipped as poison:
// such a closing would number itself short and fall off the chain. A
// conversation with poison is closed through the command path instead.
var _ = hostile("poison", "a poisoned conversation closed by a policy", func(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	poison := h.inject(events.ConversationSubject(conv), []byte("not an event"))
	h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "after the poison"})
	h.clock.Set(time.Date(2023, 12, 15, 9, 0, 0, 0, time.UTC))
	h.publishFile("v2-2023-12-cross-app-disconnect.json")
	h.waitApplied(2)
	h.waitClosed(conv)
	h.refused("conversation_closed", bob, "message.send", map[string]any{"conversation_id": conv, "text": "closed?"})
	h.wantOnlyBreakAt(poison, audit.BreakUndecodable)
})

// inject publishes data straight into the stream on subject, as a producer
// with publish rights there could, and returns its sequence.
func (h *harness) inject(subject string, data []byte) uint64 {
	h.t.Helper()
	ack, err := h.js.Publish(h.ctx, subject, data)
	if err != nil {
		h.t.Fatalf("inject into %s: %v", subject, err)
	}
	h.saw(ack.Sequence)
	return ack.Sequence
}

// forged encodes a well-formed event of type t on subject key with the
// chain fields given.
func (h *harness) forged(t events.Type, key string, data any, version uint64, prevHash string) []byte {
	h.t.Helper()
	e, err := events.New(t, key, time.Now().UTC(), uuid.NewString(), 0, data)
	if err != nil {
		h.t.Fatal(err)
	}
	e.ID = events.DerivedID(e.Time, uuid.NewString())
	e.StreamVersion, e.PrevHash = version, prevHash
	b, err := events.Encode(e)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// wantPoisoned checks that crosstalk.query.status lists seq as skipped by
// the command side, for a reason containing why.
func (h *harness) wantPoisoned(seq uint64, why string) {
	h.t.Helper()
	var st api.Status
	h.mustQuery("status", map[string]any{}, &st)
	i := slices.IndexFunc(st.Poisoned, func(p api.Poisoned) bool { return p.Seq == seq && p.Side == api.SideCommands })
	if i < 0 || !strings.Contains(st.Poisoned[i].Error, why) || st.PoisonedCommands != 1 {
		b, _ := json.Marshal(st)
		h.t.Fatalf("status must list seq %d as poisoned on the command side (%q): %s", seq, why, b)
	}
}

// wantOnlyBreakAt checks that audit verify finds one break in the whole
// history, of kind at seq: the events appended after the poison chain to
// its stored bytes and count it, as verify does.
func (h *harness) wantOnlyBreakAt(seq uint64, kind string) {
	h.t.Helper()
	rep, err := audit.Verify(h.ctx, h.log, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if rep.BreaksTotal != 1 || rep.Breaks[0].Seq != seq || rep.Breaks[0].Kind != kind {
		h.t.Fatalf("verify must find one %s break at seq %d: %+v", kind, seq, rep.Breaks)
	}
}
