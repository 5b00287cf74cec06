package codec

import (
	"encoding/json"
	"testing"

	"github.com/crosstalk-dev/crosstalk/api"
)

// TestAppendCommandReplyIsJSONMarshal checks the hand-written encoding
// against json.Marshal, field by field, and that it refuses what
// json.Marshal would escape.
func TestAppendCommandReplyIsJSONMarshal(t *testing.T) {
	replies := []api.CommandReply{
		{},
		{ConversationID: "0190c2d4-0000-7000-8000-000000000001", MessageID: "0190c2d4-0000-7000-8000-0000000000a1",
			EventID: "0190c2d4-0000-7000-8000-0000000000e1", StreamSeq: 18446744073709551615,
			Position: api.PositionAt(18446744073709551615), Version: 7, PolicyVersion: 2},
		{EventID: "e", StreamSeq: 9, Position: "v1.9.0.3", Version: 1},
		{Account: "messenger:bob", CallID: "c-1", EventID: "e", StreamSeq: 1, Duplicate: true},
		{ConversationID: "x", Account: "y", MessageID: "z", CallID: "w", EventID: "v", Duplicate: true},
	}
	for _, r := range replies {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := AppendCommandReply(nil, r)
		if !ok || string(got) != string(want) {
			t.Errorf("%+v: got %s (ok %v), json.Marshal %s", r, got, ok, want)
		}
	}
	for _, odd := range []string{`a"b`, `a\b`, "a<b", "a>b", "a&b", "a\nb", "\u00e9", "\x7f"} {
		if _, ok := AppendCommandReply(nil, api.CommandReply{EventID: odd}); ok {
			t.Errorf("%q: encoded by hand, json.Marshal escapes it", odd)
		}
		if _, ok := AppendCommandReply(nil, api.CommandReply{Position: api.Position(odd)}); ok {
			t.Errorf("position %q: encoded by hand, json.Marshal escapes it", odd)
		}
	}
}
