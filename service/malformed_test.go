package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
)

// endpointBody is, for one endpoint, a body that is well formed, a field of
// it to spoil with a value of the wrong JSON type, and a string field to
// spoil with invalid UTF-8.
type endpointBody struct {
	fields     map[string]any
	wrongField string
	wrongValue any
	textField  string
}

const (
	malformedConv = "0190c2d4-0000-7000-8000-000000000001"
	malformedMsg  = "0190c2d4-0000-7000-8000-0000000000f1"
	malformedCmd  = "0190c2d4-0000-7000-8000-0000000000a1"
)

// commandBodies has a row for every action (command_id and actor are added
// to each); a new action without one fails
// TestMalformedRequestsAreRefusedEverywhere.
var commandBodies = map[string]endpointBody{
	"conversation.start": {map[string]any{"participants": []string{"messenger:bob"}}, "participants", "messenger:bob", "actor"},
	"message.send":       {map[string]any{"conversation_id": malformedConv, "text": "hi"}, "text", 5, "text"},
	"message.edit":       {map[string]any{"conversation_id": malformedConv, "message_id": malformedMsg, "text": "hi"}, "message_id", 7, "text"},
	"message.unsend":     {map[string]any{"conversation_id": malformedConv, "message_id": malformedMsg}, "conversation_id", true, "message_id"},
	"message.react":      {map[string]any{"conversation_id": malformedConv, "message_id": malformedMsg, "reaction": "+1"}, "reaction", []string{"+1"}, "reaction"},
	"message.read":       {map[string]any{"conversation_id": malformedConv, "message_id": malformedMsg}, "message_id", map[string]any{}, "conversation_id"},
	"call.start":         {map[string]any{"conversation_id": malformedConv, "media": "video"}, "media", 1, "media"},
	"call.end":           {map[string]any{"conversation_id": malformedConv, "call_id": malformedMsg}, "call_id", false, "call_id"},
	"presence.set":       {map[string]any{"status": "idle"}, "status", 3, "status"},
	"settings.set":       {map[string]any{"show_activity_status": true}, "show_activity_status", "yes", "actor"},
	"account.erase":      {map[string]any{}, "actor", 5, "actor"},
}

// otherBodies are the admin and query endpoints, by subject. The policy
// and status queries have no string field, so its invalid UTF-8 goes into a field it does
// not know: the UTF-8 check must come before the field check.
var otherBodies = map[string]endpointBody{
	api.AdminPublish: {map[string]any{"command_id": malformedCmd, "policy": map[string]any{"version": 1,
		"name": "p", "effective_at": "2024-01-01T00:00:00Z", "links": []any{}}}, "command_id", 5, "command_id"},
	// The rebuild's body is an empty object: every field is unknown.
	api.AdminViewsRebuild: {map[string]any{}, "min_seq", -1, "cursor"},
	// So are one node's own admin requests'.
	api.AdminNodeStatus(harnessNode):       {map[string]any{}, "min_seq", -1, "cursor"},
	api.AdminNodeViewsRebuild(harnessNode): {map[string]any{}, "min_seq", -1, "cursor"},
	"crosstalk.query.inbox":                {map[string]any{"account": "instagram:alice", "limit": 20}, "limit", "ten", "account"},
	"crosstalk.query.export":               {map[string]any{"account": "instagram:alice", "limit": 20}, "limit", "ten", "account"},
	"crosstalk.query.messages":             {map[string]any{"conversation_id": malformedConv, "viewer": "instagram:alice"}, "viewer", 5, "conversation_id"},
	"crosstalk.query.presence":             {map[string]any{"viewer": "messenger:bob", "account": "instagram:alice"}, "account", 5, "viewer"},
	"crosstalk.query.conversation":         {map[string]any{"conversation_id": malformedConv}, "conversation_id", 5, "conversation_id"},
	"crosstalk.query.policy":               {map[string]any{}, "min_seq", "soon", "cursor"},
	"crosstalk.query.status":               {map[string]any{}, "min_seq", -1, "cursor"},
	"crosstalk.query.command":              {map[string]any{"command_id": malformedCmd}, "command_id", 5, "command_id"},
}

// malformedCase is one way to spoil a body, and what the refusal's sentence
// must mention.
type malformedCase struct {
	name string
	body func(endpointBody) []byte
	says func(endpointBody) string
}

var malformedCases = []malformedCase{
	{"not JSON", fixed(`not json`), says("malformed JSON")},
	{"JSON array", fixed(`[{"command_id":"` + malformedCmd + `"}]`), says("JSON object")},
	{"wrong-typed field", func(e endpointBody) []byte {
		return withField(e, e.wrongField, e.wrongValue)
	}, func(e endpointBody) string { return e.wrongField }},
	{"wrong-typed envelope field", func(e endpointBody) []byte {
		name, v := envelopeField(e)
		return withField(e, name, v)
	}, func(e endpointBody) string { name, _ := envelopeField(e); return name }},
	{"unknown field", func(e endpointBody) []byte { return withField(e, "colour", "red") }, says("colour")},
	{"empty body", fixed(``), says("empty")},
	{"blank body", fixed(" \r\n\t"), says("empty")},
	{"invalid UTF-8", func(e endpointBody) []byte {
		b := withField(e, e.textField, "INVALID-UTF8")
		return bytes.Replace(b, []byte("INVALID-UTF8"), []byte("ok\xff\xfe"), 1)
	}, says("UTF-8")},
	{"trailing data", func(e endpointBody) []byte { return append(withField(e, "", nil), `{}`...) }, says("after the JSON object")},
	{"cut short", func(e endpointBody) []byte { b := withField(e, "", nil); return b[:len(b)-1] }, says("cut short")},
}

// envelopeField is the field every body of the endpoint's kind has:
// command_id for commands and the policy publish, min_seq for queries.
// These are fields of an embedded struct (commandEnvelope, queryBase), and
// the sentence currently names them with the Go struct's name,
// "commandEnvelope.command_id" (see docs/reliability-fuzz.md, findings), so
// the check is that the field's JSON name appears, not that it appears
// alone in quotes.
func envelopeField(e endpointBody) (string, any) {
	if _, ok := e.fields["command_id"]; ok {
		return "command_id", 5
	}
	return "min_seq", "soon"
}

func fixed(body string) func(endpointBody) []byte {
	return func(endpointBody) []byte { return []byte(body) }
}

func says(s string) func(endpointBody) string {
	return func(endpointBody) string { return s }
}

// withField is the endpoint's body with field name set to v (no change
// when name is empty).
func withField(e endpointBody, name string, v any) []byte {
	m := map[string]any{}
	for k, x := range e.fields {
		m[k] = x
	}
	if name != "" {
		m[name] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// Every endpoint refuses every malformed body the same way: 400
// invalid_request in the Nats-Service-Error-Code header, the contract's JSON
// error body with a sentence that names the problem, and nothing appended.
var _ = hostile("malformed input", "every endpoint refuses every malformed body", malformedEverywhere)

func malformedEverywhere(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	h.must(alice, "conversation.start", map[string]any{"participants": []string{string(bob)}})
	endpoints := malformedEndpoints(t)
	checkEveryEndpointCovered(t, h, endpoints)
	for _, subject := range sortedKeys(endpoints) {
		e := endpoints[subject]
		for _, c := range malformedCases {
			t.Run(subject+"/"+c.name, func(t *testing.T) {
				checkRefusedAsMalformed(t, h, subject, c.body(e), c.says(e))
			})
		}
	}
}

func malformedEndpoints(t *testing.T) map[string]endpointBody {
	endpoints := map[string]endpointBody{}
	for _, a := range append(append([]string(nil), api.ConversationActions...), api.AccountActions...) {
		e, ok := commandBodies[a]
		if !ok {
			t.Fatalf("action %s has no row in commandBodies", a)
		}
		fields := map[string]any{"command_id": malformedCmd, "actor": "instagram:alice"}
		for k, v := range e.fields {
			fields[k] = v
		}
		e.fields = fields
		endpoints[api.CommandPrefix+"instagram."+a] = e
	}
	for subject, e := range otherBodies {
		endpoints[subject] = e
	}
	return endpoints
}

// checkEveryEndpointCovered asks the micro service for its endpoints, so an
// endpoint added later without a row here fails the test.
func checkEveryEndpointCovered(t *testing.T, h *harness, endpoints map[string]endpointBody) {
	t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	msg, err := h.c.Raw(ctx, "$SRV.INFO."+api.ServiceName, nil)
	if err != nil {
		t.Fatal(err)
	}
	var info micro.Info
	if err := json.Unmarshal(msg.Data, &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Endpoints) != len(endpoints) {
		t.Errorf("the service has %d endpoints, the table %d", len(info.Endpoints), len(endpoints))
	}
	for _, ep := range info.Endpoints {
		if _, ok := endpoints[strings.Replace(ep.Subject, "*", "instagram", 1)]; !ok {
			t.Errorf("endpoint %s has no row in the malformed-request table", ep.Subject)
		}
	}
}

func checkRefusedAsMalformed(t *testing.T, h *harness, subject string, body []byte, says string) {
	t.Helper()
	before := h.lastSeq()
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	msg, err := h.c.Raw(ctx, subject, body)
	if err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	status, header := msg.Header.Get(micro.ErrorCodeHeader), msg.Header.Get(micro.ErrorHeader)
	var reply struct {
		Error struct {
			Code    *string `json:"code"`
			Message *string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		t.Fatalf("body %q: the reply %q is not the JSON error body: %v", body, msg.Data, err)
	}
	code, message := reply.Error.Code, reply.Error.Message
	switch {
	case status != "400":
		t.Errorf("body %q: status %q, want 400; reply %s", body, status, msg.Data)
	case code == nil || *code != "invalid_request":
		t.Errorf("body %q: reply %s, want code invalid_request", body, msg.Data)
	case message == nil || strings.TrimSpace(*message) == "" || header == "":
		t.Errorf("body %q: no sentence in the reply %s or the %s header %q", body, msg.Data, micro.ErrorHeader, header)
	case !strings.HasPrefix(*message, header):
		t.Errorf("body %q: the header %q is not the reply's message %q", body, header, *message)
	case !strings.Contains(*message, says):
		t.Errorf("body %q: the sentence %q should mention %s", body, *message, says)
	}
	if after := h.lastSeq(); after != before {
		t.Errorf("body %q: refused, but the stream grew from %d to %d", body, before, after)
	}
}

func sortedKeys(m map[string]endpointBody) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
