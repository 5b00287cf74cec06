package codec

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// commandTypes is the domain command each action decodes to.
var commandTypes = map[string]reflect.Type{
	"conversation.start": reflect.TypeFor[aggregate.StartConversation](),
	"message.send":       reflect.TypeFor[aggregate.SendMessage](),
	"message.edit":       reflect.TypeFor[aggregate.EditMessage](),
	"message.unsend":     reflect.TypeFor[aggregate.UnsendMessage](),
	"message.react":      reflect.TypeFor[aggregate.ReactToMessage](),
	"message.read":       reflect.TypeFor[aggregate.ReadMessage](),
	"call.start":         reflect.TypeFor[aggregate.StartCall](),
	"call.end":           reflect.TypeFor[aggregate.EndCall](),
	"presence.set":       reflect.TypeFor[aggregate.SetPresence](),
	"settings.set":       reflect.TypeFor[aggregate.ChangeSettings](),
	"account.erase":      reflect.TypeFor[aggregate.EraseAccount](),
}

// fuzzApp is the app of the subject the fuzzed commands arrive on.
const fuzzApp events.App = "instagram"

// FuzzCommandDecoding feeds arbitrary bodies to every decoder of a request
// body, the first code a producer's bytes reach:
//
//   - ConversationCommand and AccountCommand, for every action of
//     ConversationActions and AccountActions, and for an action of the other
//     kind (which each must refuse). Each returns an error wrapping
//     ErrBadRequest or aggregate.ErrInvalid, or the action's command whose
//     Meta.App is the app of the subject; a conversation id it returns is a
//     UUID, or empty for conversation.start.
//   - Decode into every query struct and into api.PublishPolicy. It
//     refuses with ErrBadRequest, or accepts valid UTF-8 whose value, once
//     marshalled, decodes strictly to the same value (so nothing a query
//     reads was lost or invented). A policy in an accepted api.PublishPolicy
//     goes to aggregate.ParsePolicy, which must not panic and refuses with
//     ErrInvalidPolicy.
func FuzzCommandDecoding(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, action := range api.ConversationActions {
			checkConversationAction(t, action, body)
		}
		checkConversationAction(t, "presence.set", body)
		for _, action := range api.AccountActions {
			checkAccountAction(t, action, body)
		}
		checkAccountAction(t, "message.send", body)

		checkStrict(t, body, &inboxQuery{})
		checkStrict(t, body, &messagesQuery{})
		checkStrict(t, body, &presenceQuery{})
		checkStrict(t, body, &conversationQuery{})
		checkStrict(t, body, &api.QueryBase{})
		var pub api.PublishPolicy
		if checkStrict(t, body, &pub) && len(pub.Policy) > 0 {
			if _, err := aggregate.ParsePolicy(pub.Policy); err != nil && !errors.Is(err, aggregate.ErrInvalidPolicy) {
				t.Fatalf("ParsePolicy(%s) = %v, want ErrInvalidPolicy", pub.Policy, err)
			}
		}
	})
}

func checkConversationAction(t *testing.T, action string, body []byte) {
	t.Helper()
	id, cmd, err := ConversationCommand(action, fuzzApp, Origin{}, body)
	if err != nil {
		checkRefusal(t, action, body, err)
		return
	}
	if id != "" && !events.ValidUUID(id) || id == "" && action != "conversation.start" {
		t.Fatalf("%s %q: conversation id %q", action, body, id)
	}
	checkCommand(t, action, body, cmd)
}

func checkAccountAction(t *testing.T, action string, body []byte) {
	t.Helper()
	cmd, err := AccountCommand(action, fuzzApp, Origin{}, body)
	if err != nil {
		checkRefusal(t, action, body, err)
		return
	}
	checkCommand(t, action, body, cmd)
}

func checkRefusal(t *testing.T, action string, body []byte, err error) {
	t.Helper()
	if !errors.Is(err, ErrBadRequest) && !errors.Is(err, aggregate.ErrInvalid) {
		t.Fatalf("%s %q: refused with %v, want ErrBadRequest or aggregate.ErrInvalid", action, body, err)
	}
}

func checkCommand(t *testing.T, action string, body []byte, cmd any) {
	t.Helper()
	want, ok := commandTypes[action]
	if !ok {
		t.Fatalf("%s %q: decoded %T for an action of the other kind", action, body, cmd)
	}
	v := reflect.ValueOf(cmd)
	if v.Type() != want {
		t.Fatalf("%s %q: decoded %T, want %s", action, body, cmd, want)
	}
	if m := v.FieldByName("Meta").Interface().(aggregate.Meta); m.App != fuzzApp {
		t.Fatalf("%s %q: Meta.App = %q, want %q", action, body, m.App, fuzzApp)
	}
	if !utf8.Valid(body) {
		t.Fatalf("%s: accepted a body that is not UTF-8: %q", action, body)
	}
}

// checkStrict decodes body into v (a pointer to a zero request struct) and
// reports whether Decode accepted it.
func checkStrict(t *testing.T, body []byte, v any) bool {
	t.Helper()
	if err := Decode(body, v); err != nil {
		if !errors.Is(err, ErrBadRequest) {
			t.Fatalf("Decode into %T: %v, want ErrBadRequest", v, err)
		}
		return false
	}
	if !utf8.Valid(body) {
		t.Fatalf("Decode into %T accepted a body that is not UTF-8: %q", v, body)
	}
	again, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	back := reflect.New(reflect.TypeOf(v).Elem())
	if err := Decode(again, back.Interface()); err != nil {
		t.Fatalf("Decode refused its own value %s: %v", again, err)
	}
	if b, _ := json.Marshal(back.Interface()); string(b) != string(again) {
		t.Fatalf("%T changed in a round: %s became %s", v, again, b)
	}
	return true
}

// requestSeeds are a valid body of every action, query and the policy
// publish, and the malformed shapes of service/malformed_test.go.
var requestSeeds = []string{
	`{"command_id":"0190c2d4-0000-7000-8000-0000000000a1","actor":"instagram:alice","participants":["messenger:bob"]}`,
	`{"command_id":"0190c2d4-0000-7000-8000-0000000000a1","actor":"instagram:alice","participants":["messenger:bob"],"conversation_id":"0190c2d4-0000-7000-8000-000000000001"}`,
	`{"command_id":"0190c2d4-0000-7000-8000-0000000000a1","actor":"instagram:alice","conversation_id":"0190c2d4-0000-7000-8000-000000000001","text":"hi <b>"}`,
	`{"command_id":"0190c2d4-0000-7000-8000-0000000000a1","actor":"instagram:alice","conversation_id":"0190c2d4-0000-7000-8000-000000000001","message_id":"0190c2d4-0000-7000-8000-0000000000f1","text":"hi"}`,
	`{"command_id":"0190c2d4-0000-7000-8000-0000000000a1","actor":"instagram:alice","conversation_id":"0190c2d4-0000-7000-8000-000000000001","message_id":"0190c2d4-0000-7000-8000-0000000000f1"}`,
	`{"command_id":"0190c2d4-0000-7000-8000-0000000000a1","actor":"instagram:alice","conversation_id":"0190c2d4-0000-7000-8000-000000000001","message_id":"0190c2d4-0000-7000-8000-0000000000f1","reaction":""}`,
	`{"command_id":"0190c2d4-0000-7000-8000-0000000000a1","actor":"instagram:alice","conversation_id":"0190c2d4-0000-7000-8000-000000000001","media":"video"}`,
	`{"command_id":"0190c2d4-0000-7000-8000-0000000000a1","actor":"instagram:alice","conversation_id":"0190c2d4-0000-7000-8000-000000000001","call_id":"0190c2d4-0000-7000-8000-0000000000c1"}`,
	`{"command_id":"0190c2d4-0000-7000-8000-0000000000a1","actor":"instagram:alice","status":"idle"}`,
	`{"command_id":"0190c2d4-0000-7000-8000-0000000000a1","actor":"instagram:alice","show_activity_status":false,"interop_opt_in":true,"send_read_receipts":null}`,
	`{"account":"instagram:alice","limit":20,"cursor":"x","min_seq":7}`,
	`{"conversation_id":"0190c2d4-0000-7000-8000-000000000001","viewer":"instagram:alice","limit":200}`,
	`{"viewer":"messenger:bob","account":"instagram:alice"}`,
	`{}`,
	`{"command_id":"0190c2d4-0000-7000-8000-0000000000a1","policy":{"version":1,"name":"p","effective_at":"2024-01-01T00:00:00Z","links":[{"from":"instagram","to":"messenger","send":true}]}}`,
	`{"command_id":"0190c2d4-0000-7000-8000-0000000000a1","policy":null}`,
	`not json`,
	`[1,2]`,
	`{"command_id":5,"actor":["x"],"text":false,"limit":"ten","min_seq":-1}`,
	`{"colour":"red"}`,
	``,
	" \t\n",
	"{\"text\":\"\xff\"}",
	`{"text":"a"} {"text":"b"}`,
	`{"Command_ID":"0190c2d4-0000-7000-8000-0000000000a1","ACTOR":"instagram:alice","status":"active","status":"idle"}`,
}

// The query types as service declares them: the wire type embedded, beside
// the fields a check parses into and the principal asking, which Decode
// never sets and which must not make a request nested.
type (
	inboxQuery struct {
		api.InboxQuery
		account events.Account
		by      struct{ kind, name string }
	}
	messagesQuery struct {
		api.MessagesQuery
		viewer events.Account
		by     struct{ kind, name string }
	}
	presenceQuery struct {
		api.PresenceQuery
		viewer, account events.Account
		by              struct{ kind, name string }
	}
	conversationQuery struct{ api.ConversationQuery }
)
