package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/service"
)

func TestDuplicateCommandIsAnsweredOnce(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	id := uuid.NewString()
	body := func() map[string]any {
		return map[string]any{"command_id": id, "conversation_id": conv, "text": "once"}
	}
	first := h.must(alice, "message.send", body())
	before := h.lastSeq()
	again := h.must(alice, "message.send", body())
	if !again.Duplicate || again.StreamSeq != first.StreamSeq || again.EventID != first.EventID || again.MessageID != first.MessageID {
		t.Fatalf("retry must get the first reply with duplicate: first %+v, again %+v", first, again)
	}
	if h.lastSeq() != before {
		t.Fatal("a retried command appended another event")
	}

	// A retried start (server-made conversation id) is deduplicated by the
	// stream's Nats-Msg-Id window.
	startID := uuid.NewString()
	s1 := h.must(alice, "conversation.start", map[string]any{"command_id": startID, "participants": []events.Account{bob}})
	s2 := h.must(alice, "conversation.start", map[string]any{"command_id": startID, "participants": []events.Account{bob}})
	if !s2.Duplicate || s2.ConversationID != s1.ConversationID || s2.StreamSeq != s1.StreamSeq {
		t.Fatalf("retried start: first %+v, again %+v", s1, s2)
	}
}

func TestConversationRules(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	msg := h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "mine"}).MessageID

	h.refused("not_participant", carol, "message.send", map[string]any{"conversation_id": conv, "text": "let me in"})
	h.refused("not_sender", bob, "message.edit", map[string]any{"conversation_id": conv, "message_id": msg, "text": "yours now"})
	h.refused("conversation_not_found", alice, "message.send", map[string]any{"conversation_id": uuid.NewString(), "text": "x"})
	h.refused("message_not_found", bob, "message.react", map[string]any{"conversation_id": conv, "message_id": uuid.NewString(), "reaction": "👍"})
	h.must(bob, "message.react", map[string]any{"conversation_id": conv, "message_id": msg, "reaction": "👍"})
	h.must(bob, "message.react", map[string]any{"conversation_id": conv, "message_id": msg, "reaction": "❤️"})
	h.must(alice, "message.edit", map[string]any{"conversation_id": conv, "message_id": msg, "text": "mine, edited"})
	h.must(alice, "message.unsend", map[string]any{"conversation_id": conv, "message_id": msg})
	h.refused("message_not_found", alice, "message.edit", map[string]any{"conversation_id": conv, "message_id": msg, "text": "again"})

	var m api.MessagePage
	h.mustQuery("messages", map[string]any{"conversation_id": conv, "viewer": bob}, &m)
	if len(m.Items) != 1 || !m.Items[0].Unsent || m.Items[0].Text != "" {
		t.Fatalf("an unsent message is a tombstone: %+v", m.Items)
	}
	h.refused("not_participant", carol, "message.send", map[string]any{"conversation_id": conv, "text": "x"})
	var q any
	if err := h.query("messages", map[string]any{"conversation_id": conv, "viewer": carol}, &q); err == nil || !strings.Contains(err.Error(), "not_participant") {
		t.Fatalf("a non-participant may not read a conversation: %v", err)
	}
}

// TestWrongApp sends bob (messenger) through the instagram endpoint: 403,
// an authorization refusal (acting as another app's account), since issue
// 12; it was 400.
func TestWrongApp(t *testing.T) {
	h := newHarness(t)
	body, _ := json.Marshal(map[string]any{"command_id": uuid.NewString(), "actor": bob, "status": "active"})
	msg, err := h.c.Raw(h.ctx, "crosstalk.cmd.instagram.presence.set", body)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get(micro.ErrorCodeHeader) != "403" || !strings.Contains(string(msg.Data), `"wrong_app"`) {
		t.Fatalf("want 403 wrong_app, got %q %s", msg.Header.Get(micro.ErrorCodeHeader), msg.Data)
	}
}

func TestCallNotAllowedBySendOnlyPolicy(t *testing.T) {
	h := newHarness(t)
	h.publish(json.RawMessage(`{"version":1,"name":"talk-no-calls","effective_at":"2020-01-01T00:00:00Z","links":[
	 {"from":"instagram","to":"messenger","start_conversation":true,"send":true,"call":false,"see_activity_status":true,"see_read_receipts":true},
	 {"from":"messenger","to":"instagram","start_conversation":true,"send":true,"call":false,"see_activity_status":true,"see_read_receipts":true}]}`))
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	e := h.refused("call_not_allowed", alice, "call.start", map[string]any{"conversation_id": conv, "media": "video"})
	if e.Status != "403" {
		t.Fatalf("status %s", e.Status)
	}
	same := h.must(bob, "conversation.start", map[string]any{"participants": []events.Account{carol}}).ConversationID
	call := h.must(bob, "call.start", map[string]any{"conversation_id": same, "media": "audio"}).CallID
	h.must(carol, "call.end", map[string]any{"conversation_id": same, "call_id": call})
	h.refused("call_not_found", carol, "call.end", map[string]any{"conversation_id": same, "call_id": uuid.NewString()})
}

func TestPolicyPublishRefusals(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	cases := map[string]string{
		`{"version":1,"name":"again","effective_at":"2021-01-01T00:00:00Z","links":[]}`:                                              "policy_version_conflict",
		`{"version":3,"name":"bad time","effective_at":"someday","links":[]}`:                                                        "invalid_policy",
		`{"version":3,"name":"bad app","effective_at":"2021-01-01T00:00:00Z","links":[{"from":"Bad!","to":"messenger"}]}`:            "invalid_policy",
		`{"version":3,"name":"dup","effective_at":"2021-01-01T00:00:00Z","links":[{"from":"a1","to":"b1"},{"from":"a1","to":"b1"}]}`: "invalid_policy",
		`{"version":3,"name":"typo","effective_at":"2021-01-01T00:00:00Z","linkz":[]}`:                                               "invalid_policy",
	}
	for policy, code := range cases {
		before := h.lastSeq()
		_, err := h.c.PublishPolicy(h.ctx, uuid.NewString(), json.RawMessage(policy))
		if !strings.Contains(errString(err), code) {
			t.Errorf("%s: want %s, got %v", policy, code, err)
		}
		if h.lastSeq() != before {
			t.Errorf("%s: refused policy appended", policy)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Many producers on one conversation: every send lands once, versions have
// no gaps, and the chain links each event to the one before.
func TestConcurrentSendsKeepTheChain(t *testing.T) {
	h := newHarness(t)
	conv := h.must(bob, "conversation.start", map[string]any{"participants": []events.Account{carol}}).ConversationID
	const n = 60
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			actor := []events.Account{bob, carol}[i%2]
			_, err := h.cmd(actor, "message.send", map[string]any{"conversation_id": conv, "text": "hi"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := h.log.Load(h.ctx, events.ConversationSubject(conv), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != n+1 {
		t.Fatalf("want %d events, got %d", n+1, len(msgs))
	}
	prev := ""
	for i, m := range msgs {
		e, _ := events.Decode(m.Data)
		if e.StreamVersion != uint64(i+1) || e.PrevHash != prev {
			t.Fatalf("event %d: version %d prevhash %q, want %d %q", i, e.StreamVersion, e.PrevHash, i+1, prev)
		}
		prev = events.Hash(m.Data)
	}
}

// A restarted service (cold cache, projector resuming from its checkpoint)
// carries on where the first left off.
func TestRestartCarriesOn(t *testing.T) {
	h := newHarness(t)
	conv := h.must(bob, "conversation.start", map[string]any{"participants": []events.Account{carol}}).ConversationID
	h.must(bob, "message.send", map[string]any{"conversation_id": conv, "text": "before"})
	h.restart(service.Options{})
	r := h.must(carol, "message.send", map[string]any{"conversation_id": conv, "text": "after"})
	if r.Version != 3 {
		t.Fatalf("version after restart: %d", r.Version)
	}
	var m api.MessagePage
	h.mustQuery("messages", map[string]any{"conversation_id": conv, "viewer": carol}, &m)
	if len(m.Items) != 2 {
		t.Fatalf("messages after restart: %+v", m.Items)
	}
	var inbox api.InboxPage
	h.mustQuery("inbox", map[string]any{"account": bob}, &inbox)
	if len(inbox.Items) != 1 || inbox.Items[0].Unread != 1 {
		t.Fatalf("no double-apply after restart: %+v", inbox.Items)
	}
}

func TestMicroServiceDiscovery(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	msg, err := h.c.Raw(ctx, "$SRV.INFO.crosstalk", nil)
	if err != nil {
		t.Fatal(err)
	}
	var info micro.Info
	if err := json.Unmarshal(msg.Data, &info); err != nil {
		t.Fatal(err)
	}
	subjects := map[string]bool{}
	for _, e := range info.Endpoints {
		subjects[e.Subject] = true
	}
	for _, want := range []string{"crosstalk.cmd.*.message.send", "crosstalk.cmd.*.settings.set",
		"crosstalk.admin.policy.publish", "crosstalk.query.inbox", "crosstalk.query.policy"} {
		if !subjects[want] {
			t.Errorf("endpoint %s missing from %v", want, subjects)
		}
	}
}
