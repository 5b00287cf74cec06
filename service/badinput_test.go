package service_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Bad input never crashes the service and never appends anything: each
// request gets a 4xx with a sentence that names the problem.
var _ = hostile("malformed input", "bad input is refused without appending", badInputWithoutAppending)

func badInputWithoutAppending(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	id := uuid.NewString()
	long := strings.Repeat("x", 4097)
	cases := []struct {
		subject, body, status, code, says string
	}{
		{"crosstalk.cmd.instagram.message.send", `{`, "400", "invalid_request", "malformed JSON"},
		{"crosstalk.cmd.instagram.message.send", ``, "400", "invalid_request", "empty"},
		{"crosstalk.cmd.instagram.message.send", `[]`, "400", "invalid_request", "JSON object"},
		{"crosstalk.cmd.instagram.message.send", `{"command_id":"` + id + `","actor":"instagram:alice","conversation_id":"` + conv + `","text":5}`, "400", "invalid_request", `"text"`},
		{"crosstalk.cmd.instagram.message.send", `{"command_id":"` + id + `","actor":"instagram:alice","conversation_id":"` + conv + `","text":"hi","colour":"red"}`, "400", "invalid_request", "colour"},
		{"crosstalk.cmd.instagram.message.send", `{"actor":"instagram:alice","conversation_id":"` + conv + `","text":"hi"}`, "400", "invalid_request", "command_id"},
		{"crosstalk.cmd.instagram.message.send", `{"command_id":"` + id + `","actor":"instagram:alice","text":"hi"}`, "400", "invalid_request", "conversation_id"},
		{"crosstalk.cmd.instagram.message.send", `{"command_id":"` + id + `","actor":"instagram:alice","conversation_id":"` + conv + `","text":"` + long + `"}`, "400", "invalid_request", "4096"},
		{"crosstalk.cmd.instagram.message.send", "{\"command_id\":\"" + id + "\",\"actor\":\"instagram:alice\",\"conversation_id\":\"" + conv + "\",\"text\":\"\xff\"}", "400", "invalid_request", "UTF-8"},
		{"crosstalk.cmd.instagram.message.send", `{"command_id":"` + id + `","actor":"instagram:alice","conversation_id":"` + conv + `","text":""}`, "400", "invalid_request", "1 to 4096"},
		{"crosstalk.cmd.instagram.message.react", `{"command_id":"` + id + `","actor":"instagram:alice","conversation_id":"` + conv + `","message_id":"` + id + `","text":"no"}`, "400", "invalid_request", "does not belong"},
		{"crosstalk.cmd.instagram.conversation.start", `{"command_id":"` + id + `","actor":"alice","participants":["messenger:bob"]}`, "400", "invalid_request", "actor"},
		{"crosstalk.cmd.instagram.conversation.start", `{"command_id":"` + id + `","actor":"instagram:alice","participants":["messenger:b b"]}`, "400", "invalid_request", "participants"},
		{"crosstalk.cmd.instagram.conversation.start", `{"command_id":"` + id + `","actor":"instagram:alice","participants":[]}`, "400", "invalid_request", "at least one"},
		{"crosstalk.cmd.Bad_App.presence.set", `{"command_id":"` + id + `","actor":"instagram:alice","status":"active"}`, "400", "invalid_request", "app"},
		{"crosstalk.cmd.instagram.presence.set", `{"command_id":"` + id + `","actor":"instagram:alice","status":"asleep"}`, "400", "invalid_request", "status"},
		{"crosstalk.cmd.instagram.settings.set", `{"command_id":"` + id + `","actor":"instagram:alice"}`, "400", "invalid_request", "show_activity_status"},
		{"crosstalk.cmd.instagram.call.start", `{"command_id":"` + id + `","actor":"instagram:alice","conversation_id":"` + conv + `","media":"hologram"}`, "400", "invalid_request", "media"},
		{"crosstalk.admin.policy.publish", `{"command_id":"` + id + `"}`, "400", "invalid_policy", "no policy"},
		{"crosstalk.admin.policy.publish", `{"command_id":"nope","policy":{}}`, "400", "invalid_request", "command_id"},
		{"crosstalk.query.inbox", `{"account":"nobody"}`, "400", "invalid_request", "account"},
		{"crosstalk.query.inbox", `{"account":"instagram:ghost"}`, "404", "account_not_found", "ghost"},
		{"crosstalk.query.inbox", `{"account":"instagram:alice","limit":1000}`, "400", "invalid_request", "limit"},
		{"crosstalk.query.presence", `{"viewer":"messenger:bob","account":"instagram:ghost"}`, "404", "account_not_found", "ghost"},
		{"crosstalk.query.messages", `{"conversation_id":"` + uuid.NewString() + `","viewer":"instagram:alice"}`, "404", "conversation_not_found", "conversation"},
		{"crosstalk.query.conversation", `{"conversation_id":"not-a-uuid"}`, "400", "invalid_request", "UUID"},
		{"crosstalk.query.policy", `{"min_seq":"soon"}`, "400", "invalid_request", "min_seq"},
	}
	for _, c := range cases {
		before := h.lastSeq()
		msg, err := h.c.Raw(h.ctx, c.subject, []byte(c.body))
		if err != nil {
			t.Fatalf("%s %s: %v", c.subject, c.body, err)
		}
		status, desc := msg.Header.Get(micro.ErrorCodeHeader), msg.Header.Get(micro.ErrorHeader)
		if status != c.status || !strings.Contains(string(msg.Data), `"code":"`+c.code+`"`) {
			t.Errorf("%s %.80s: want %s %s, got %s %s", c.subject, c.body, c.status, c.code, status, msg.Data)
			continue
		}
		if !strings.Contains(desc, c.says) {
			t.Errorf("%s %.80s: the sentence %q should mention %q", c.subject, c.body, desc, c.says)
		}
		if h.lastSeq() != before {
			t.Errorf("%s %.80s: refused request appended to the stream", c.subject, c.body)
		}
	}
}

// encoding/json matches field names regardless of case; the contract's
// names are exact, so "Text" is an unknown field, not text.
func TestFieldNamesAreExact(t *testing.T) {
	h := newHarness(t)
	conv := h.must(bob, "conversation.start", map[string]any{"participants": []events.Account{carol}}).ConversationID
	body := `{"command_id":"` + uuid.NewString() + `","actor":"messenger:bob","conversation_id":"` + conv + `","Text":"hi"}`
	msg, err := h.c.Raw(h.ctx, "crosstalk.cmd.messenger.message.send", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get(micro.ErrorCodeHeader) != "400" || !strings.Contains(string(msg.Data), `unknown field \"Text\"`) {
		t.Fatalf("want 400 naming \"Text\", got %s", msg.Data)
	}
}
