package service_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/service"
)

// The class "command ids" (docs/reliability.md, "Hostile producers"): a
// command id names one command, and every id has one spelling.

const classIDs = "command ids"

// reused checks that a command is refused with 409 command_id_reused,
// naming the subject the id was first used on, and stores nothing.
func (h *harness) reused(firstOn string, actor events.Account, action string, body map[string]any) {
	h.t.Helper()
	e := h.refused(api.CodeCommandIDReused, actor, action, body)
	if e.Status != "409" || !strings.Contains(e.Message, firstOn) {
		h.t.Fatalf("%s by %s: want 409 naming %s, got %s %s", action, actor, firstOn, e.Status, e.Message)
	}
}

// sameReply checks that again is first, answered as a duplicate.
func sameReply(t *testing.T, first, again api.CommandReply) {
	t.Helper()
	first.Duplicate = true
	if again != first {
		t.Fatalf("a retry must get the first reply with duplicate: first %+v, again %+v", first, again)
	}
}

// twoConversations starts two conversations of alice and bob under the
// 2020 policy.
func twoConversations(h *harness) (string, string) {
	h.publishFile("v1-2020-cross-app.json")
	start := func() string {
		return h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	}
	return start(), start()
}

var _ = hostile(classIDs, "a command id reused on another conversation is refused, naming the first", func(t *testing.T) {
	h := newHarness(t)
	c1, c2 := twoConversations(h)
	id := uuid.NewString()
	first := h.must(alice, "message.send", map[string]any{"command_id": id, "conversation_id": c1, "text": "hi"})
	h.reused(events.ConversationSubject(c1), alice, "message.send", map[string]any{"command_id": id, "conversation_id": c2, "text": "hi"})
	sameReply(t, first, h.must(alice, "message.send", map[string]any{"command_id": id, "conversation_id": c1, "text": "hi"}))
	var page api.MessagePage
	h.mustQuery("messages", map[string]any{"conversation_id": c2, "viewer": alice}, &page)
	if len(page.Items) != 0 {
		t.Fatalf("the refused command left messages in %s: %+v", c2, page.Items)
	}
})

// independent checks that r, another app's command under an id already
// used, was decided as a command of its own.
func independent(t *testing.T, of, r api.CommandReply) {
	t.Helper()
	if r.Duplicate || r.EventID == of.EventID || r.StreamSeq == of.StreamSeq {
		t.Fatalf("another app's command with the same id was not decided on its own: first %+v, other %+v", of, r)
	}
}

var _ = hostile(classIDs, "command ids are each app's own: another app's command with the same id is its own command", func(t *testing.T) {
	h := newHarness(t)
	conv, _ := twoConversations(h)
	id := uuid.NewString()
	// An account command (the case: the log's duplicate window
	// answered messenger's seq and named instagram's subject), a message
	// in one conversation, and a start without conversation_id.
	pa := h.must(alice, "presence.set", map[string]any{"command_id": id, "status": "idle"})
	pb := h.must(bob, "presence.set", map[string]any{"command_id": id, "status": "idle"})
	independent(t, pa, pb)
	mid := uuid.NewString()
	ma := h.must(alice, "message.send", map[string]any{"command_id": mid, "conversation_id": conv, "text": "hi"})
	mb := h.must(bob, "message.send", map[string]any{"command_id": mid, "conversation_id": conv, "text": "hi"})
	independent(t, ma, mb)
	sid := uuid.NewString()
	sa := h.must(alice, "conversation.start", map[string]any{"command_id": sid, "participants": []events.Account{bob}})
	sb := h.must(bob, "conversation.start", map[string]any{"command_id": sid, "participants": []events.Account{alice}})
	independent(t, sa, sb)
	if sa.ConversationID == sb.ConversationID {
		t.Fatalf("two apps' starts under one id share conversation %s", sa.ConversationID)
	}
	check := func() {
		t.Helper()
		sameReply(t, pa, h.must(alice, "presence.set", map[string]any{"command_id": id, "status": "idle"}))
		sameReply(t, pb, h.must(bob, "presence.set", map[string]any{"command_id": id, "status": "idle"}))
		sameReply(t, ma, h.must(alice, "message.send", map[string]any{"command_id": mid, "conversation_id": conv, "text": "hi"}))
		sameReply(t, mb, h.must(bob, "message.send", map[string]any{"command_id": mid, "conversation_id": conv, "text": "hi"}))
		sameReply(t, sa, h.must(alice, "conversation.start", map[string]any{"command_id": sid, "participants": []events.Account{bob}}))
		sameReply(t, sb, h.must(bob, "conversation.start", map[string]any{"command_id": sid, "participants": []events.Account{alice}}))
		// A reuse within an app names only that app's subject.
		e := h.refused(api.CodeCommandIDReused, bob, "presence.set", map[string]any{"command_id": id, "status": "offline"})
		if !strings.Contains(e.Message, events.AccountSubject(bob)) || strings.Contains(e.Message, string(alice.App())) {
			t.Fatalf("bob's reuse: %s, want it to name bob's subject and nothing of %s", e.Message, alice.App())
		}
	}
	check()
	h.restart(service.Options{}) // the same from the log, not from the cache
	check()
})

var _ = hostile(classIDs, "a command id reused on the same conversation by another actor, action or text is refused", func(t *testing.T) {
	h := newHarness(t)
	conv, _ := twoConversations(h)
	id := uuid.NewString()
	send := map[string]any{"command_id": id, "conversation_id": conv, "text": "hi"}
	first := h.must(alice, "message.send", send)
	check := func() {
		t.Helper()
		subject := events.ConversationSubject(conv)
		h.reused(subject, alice, "message.send", map[string]any{"command_id": id, "conversation_id": conv, "text": "bye"})
		h.reused(subject, alice, "message.react", map[string]any{"command_id": id, "conversation_id": conv, "message_id": first.MessageID, "reaction": "👍"})
		h.reused(subject, alice, "call.start", map[string]any{"command_id": id, "conversation_id": conv, "media": "audio"})
		sameReply(t, first, h.must(alice, "message.send", map[string]any{"command_id": id, "conversation_id": conv, "text": "hi"}))
	}
	check()
	h.restart(service.Options{}) // the same from the log, not from the cache
	check()
})

var _ = hostile(classIDs, "a command id reused for presence.set or settings.set is refused", func(t *testing.T) {
	h := newHarness(t)
	conv, _ := twoConversations(h)
	id := uuid.NewString()
	h.must(alice, "message.send", map[string]any{"command_id": id, "conversation_id": conv, "text": "hi"})
	h.reused(events.ConversationSubject(conv), alice, "presence.set", map[string]any{"command_id": id, "status": "idle"})

	pid := uuid.NewString()
	first := h.must(alice, "presence.set", map[string]any{"command_id": pid, "status": "idle"})
	onAlice := events.AccountSubject(alice)
	h.reused(onAlice, alice, "presence.set", map[string]any{"command_id": pid, "status": "offline"})
	h.reused(onAlice, alice, "settings.set", map[string]any{"command_id": pid, "send_read_receipts": false})
	h.reused(onAlice, alice, "message.send", map[string]any{"command_id": pid, "conversation_id": conv, "text": "hi"})
	sameReply(t, first, h.must(alice, "presence.set", map[string]any{"command_id": pid, "status": "idle"}))
})

var _ = hostile(classIDs, "a command id reused for conversation.start is refused, and no conversation starts", func(t *testing.T) {
	h := newHarness(t)
	conv, _ := twoConversations(h)
	id := uuid.NewString()
	h.must(alice, "message.send", map[string]any{"command_id": id, "conversation_id": conv, "text": "hi"})
	named := uuid.NewString()
	h.reused(events.ConversationSubject(conv), alice, "conversation.start", map[string]any{"command_id": id, "participants": []events.Account{carol}})
	h.reused(events.ConversationSubject(conv), alice, "conversation.start", map[string]any{"command_id": id, "conversation_id": named, "participants": []events.Account{bob}})
	for _, c := range []string{named, events.ConversationIDFor(events.App(alice.App()), id)} {
		var v api.ConversationView
		if err := h.query("conversation", map[string]any{"conversation_id": c}, &v); client.CodeOf(err) != api.CodeConversationNotFound {
			t.Fatalf("conversation %s: want not found, got %+v, %v", c, v, err)
		}
	}

	// A start retried in another participant order is the same start.
	sid := uuid.NewString()
	first := h.must(alice, "conversation.start", map[string]any{"command_id": sid, "participants": []events.Account{bob, carol}})
	sameReply(t, first, h.must(alice, "conversation.start", map[string]any{"command_id": sid, "participants": []events.Account{carol, bob, carol}}))
	h.reused(events.ConversationSubject(first.ConversationID), alice, "conversation.start", map[string]any{"command_id": sid, "participants": []events.Account{bob}})
})

var _ = hostile(classIDs, "a command id reused for a policy publish is refused, and the policy is not published", func(t *testing.T) {
	h := newHarness(t)
	conv, _ := twoConversations(h)
	publishReused := func(id, firstOn string, policy json.RawMessage) {
		t.Helper()
		before := h.lastSeq()
		r, err := h.c.PublishPolicy(h.ctx, id, policy)
		if client.CodeOf(err) != api.CodeCommandIDReused || !strings.Contains(err.Error(), firstOn) {
			t.Fatalf("publish with a reused command id: want 409 %s naming %s, got %+v, %v", api.CodeCommandIDReused, firstOn, r, err)
		}
		if h.lastSeq() != before {
			t.Fatal("a refused publish appended")
		}
	}
	// An app's command ids are not the admin's: a publish under the id of
	// alice's send is a command of its own.
	pid := uuid.NewString()
	sent := h.must(alice, "message.send", map[string]any{"command_id": pid, "conversation_id": conv, "text": "hi"})
	v2 := json.RawMessage(`{"version":2,"name":"two","effective_at":"2020-01-01T00:00:00Z","links":[]}`)
	first, err := h.c.PublishPolicy(h.ctx, pid, v2)
	if err != nil || first.Duplicate || first.StreamSeq == sent.StreamSeq {
		t.Fatalf("a publish under an app's command id: %+v, %v; want a command of its own", first, err)
	}
	h.saw(first.StreamSeq)
	h.waitApplied(2) // its closings are appended: the stream stays still
	publishReused(pid, events.PolicySubject, json.RawMessage(`{"version":3,"name":"three","effective_at":"2020-01-01T00:00:00Z","links":[]}`))
	again, err := h.c.PublishPolicy(h.ctx, pid, v2)
	first.Duplicate = true
	if err != nil || again != first {
		t.Fatalf("a retried publish gets the first reply: first %+v, again %+v, %v", first, again, err)
	}
	var rep api.PolicyReport
	h.mustQuery("policy", map[string]any{}, &rep)
	if rep.Current != 2 || len(rep.Versions) != 2 {
		t.Fatalf("v1 and v2 are published, got %+v", rep)
	}
})

var _ = hostile(classIDs, "an id not in canonical lowercase form is refused, so it has no twin", func(t *testing.T) {
	h := newHarness(t)
	conv, _ := twoConversations(h)
	upper := strings.ToUpper
	canonical := func(e *client.Error) {
		t.Helper()
		if e.Status != "400" || !strings.Contains(e.Message, "lowercase") {
			t.Fatalf("want 400 naming the canonical form, got %s %s", e.Status, e.Message)
		}
	}
	named := uuid.NewString()
	canonical(h.refused(api.CodeInvalidRequest, alice, "conversation.start", map[string]any{"conversation_id": upper(named), "participants": []events.Account{bob}}))
	canonical(h.refused(api.CodeInvalidRequest, alice, "message.send", map[string]any{"conversation_id": upper(conv), "text": "twin"}))

	id := uuid.NewString()
	canonical(h.refused(api.CodeInvalidRequest, alice, "message.send", map[string]any{"command_id": upper(id), "conversation_id": conv, "text": "once"}))
	first := h.must(alice, "message.send", map[string]any{"command_id": id, "conversation_id": conv, "text": "once"})
	canonical(h.refused(api.CodeInvalidRequest, alice, "message.send", map[string]any{"command_id": upper(id), "conversation_id": conv, "text": "once"}))
	canonical(h.refused(api.CodeInvalidRequest, alice, "presence.set", map[string]any{"command_id": upper(uuid.NewString()), "status": "idle"}))
	canonical(h.refused(api.CodeInvalidRequest, bob, "message.react", map[string]any{"conversation_id": conv, "message_id": upper(first.MessageID), "reaction": "👍"}))
	canonical(h.refused(api.CodeInvalidRequest, alice, "message.send", map[string]any{"conversation_id": conv, "message_id": upper(uuid.NewString()), "text": "x"}))
	call := h.must(alice, "call.start", map[string]any{"conversation_id": conv, "media": "audio"}).CallID
	canonical(h.refused(api.CodeInvalidRequest, alice, "call.end", map[string]any{"conversation_id": conv, "call_id": upper(call)}))
	canonical(h.refused(api.CodeInvalidRequest, alice, "call.start", map[string]any{"conversation_id": conv, "call_id": upper(uuid.NewString()), "media": "audio"}))

	for name, req := range map[string]map[string]any{
		"conversation": {"conversation_id": upper(conv)},
		"messages":     {"conversation_id": upper(conv), "viewer": alice},
	} {
		var v any
		err := h.query(name, req, &v)
		var e *client.Error
		if !errors.As(err, &e) || e.Code != api.CodeInvalidRequest {
			t.Fatalf("query %s with an uppercase id: want invalid_request, got %v", name, err)
		}
		canonical(e)
	}
	for _, cmd := range []string{upper(id), "abc"} { // query.command takes no min_seq
		var v any
		err := h.c.Query(h.ctx, api.QueryCommand, map[string]any{"command_id": cmd, "app": "instagram"}, &v)
		var e *client.Error
		if !errors.As(err, &e) || e.Code != api.CodeInvalidRequest {
			t.Fatalf("query command with command_id %q: want invalid_request, got %v", cmd, err)
		}
		canonical(e)
	}
	_, err := h.c.PublishPolicy(h.ctx, upper(uuid.NewString()), json.RawMessage(`{"version":2,"name":"two","effective_at":"2020-01-01T00:00:00Z","links":[]}`))
	if client.CodeOf(err) != api.CodeInvalidRequest || !strings.Contains(err.Error(), "lowercase") {
		t.Fatalf("publish with an uppercase command id: want invalid_request naming the form, got %v", err)
	}
})

var _ = hostile(classIDs, "a command id reused on a conversation that forgot it is refused by the duplicate window", func(t *testing.T) {
	h := newHarness(t)
	conv, _ := twoConversations(h)
	id := uuid.NewString()
	first := h.must(alice, "message.send", map[string]any{"command_id": id, "conversation_id": conv, "text": "hi"})
	for range aggregate.PriorLimit {
		h.must(bob, "message.send", map[string]any{"conversation_id": conv, "text": "push it out"})
	}
	// The aggregate remembers its last PriorLimit commands only; the
	// stream's duplicate window still points at the first event, which is
	// checked like the aggregate's memory.
	h.reused(events.ConversationSubject(conv), alice, "message.send", map[string]any{"command_id": id, "conversation_id": conv, "text": "bye"})
	sameReply(t, first, h.must(alice, "message.send", map[string]any{"command_id": id, "conversation_id": conv, "text": "hi"}))
})
