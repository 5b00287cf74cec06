package feed

import (
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
)

// TestAppendNotification holds the hand encoder to json.Marshal, for every
// kind's fields and for texts that need escaping.
func TestAppendNotification(t *testing.T) {
	yes, no := true, false
	at := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	cases := []api.Notification{
		{Seq: 7, N: 1, Kind: api.NoteMessageSent, ConversationID: "c1", Account: "messenger:bob", At: at, MessageID: "m1", Text: "hi"},
		{Seq: 8, N: 2, Kind: api.NoteMessageSent, ConversationID: "c1", Account: "messenger:bob", At: at, MessageID: "m2", Text: "<é \"q\"\n>"},
		{Seq: 9, N: 3, Kind: api.NoteConversationStarted, ConversationID: "c1", Account: "a:b", At: at,
			Participants: []string{"a:b", "c:d"}, CrossApp: true},
		{Seq: 10, N: 4, Kind: api.NoteConversationClosed, ConversationID: "c1", At: at, Reason: "policy", PolicyVersion: 2},
		{Seq: 11, N: 5, Kind: api.NoteCallStarted, ConversationID: "c1", Account: "a:b", At: at, CallID: "k", Media: "audio"},
		{Seq: 12, N: 6, Kind: api.NotePresenceChanged, Account: "a:b", At: at.In(time.FixedZone("x", 3600)), Status: "active"},
		{Seq: 13, N: 7, Kind: api.NoteVisibilityChanged, Account: "a:b", At: at, ActivityStatus: &no, ReadReceipts: &yes, PolicyVersion: 2},
		{Seq: 14, N: 8, Kind: api.NoteMessageReacted, ConversationID: "c1", Account: "a:b", At: at, MessageID: "m1", Reaction: "👍"},
	}
	for _, n := range cases {
		want, err := json.Marshal(&n)
		if err != nil {
			t.Fatal(err)
		}
		got := appendNotification([]byte("prefix"), &n)
		if string(got) != "prefix"+string(want) {
			t.Errorf("%s:\n got %s\nwant prefix%s", n.Kind, got, want)
		}
	}
}
