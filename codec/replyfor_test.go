package codec

import (
	"reflect"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// replySamples has one payload of every event type, ids set wherever the
// type has them.
var replySamples = map[events.Type]any{
	events.ConversationStarted: events.ConversationStartedData{ConversationID: "c1", StartedBy: "a:x", Participants: []events.Account{"a:x", "b:y"}},
	events.MessageSent:         events.MessageSentData{MessageID: "m1", Sender: "a:x", Text: "hi"},
	events.MessageEdited:       events.MessageEditedData{MessageID: "m2", Editor: "a:x", Text: "ho"},
	events.MessageUnsent:       events.MessageUnsentData{MessageID: "m3", By: "a:x"},
	events.MessageReacted:      events.MessageReactedData{MessageID: "m4", Account: "b:y", Reaction: "+1"},
	events.MessageRead:         events.MessageReadData{MessageID: "m5", Account: "b:y"},
	events.CallStarted:         events.CallStartedData{CallID: "k1", By: "a:x", Media: "audio"},
	events.CallEnded:           events.CallEndedData{CallID: "k2", By: "a:x"},
	events.ConversationClosed:  events.ConversationClosedData{Reason: events.ClosedByPolicy, PolicyVersion: 2},
	events.PresenceChanged:     events.PresenceChangedData{Account: "a:x", Status: events.StatusIdle},
	events.SettingsChanged:     events.SettingsChangedData{Account: "a:x", SendReadReceipts: true},
	events.PolicyPublished:     events.PolicyPublishedData{Version: 2, Name: "p", EffectiveAt: time.Unix(0, 0).UTC()},
	events.AccountErased:       events.AccountErasedData{Account: "a:x", By: "a:x"},
	events.ContentExpired:      events.ContentExpiredData{Through: 4, Before: time.Unix(0, 0).UTC(), PolicyVersion: 2},
}

// The reply of a command just decided, built from the event's typed payload,
// is the reply of the same event read back from the log (a duplicate's).
func TestReplyForPayloadMatchesStoredEvent(t *testing.T) {
	for _, typ := range events.Types {
		data, ok := replySamples[typ]
		if !ok {
			t.Fatalf("no sample for %s", typ)
		}
		e, err := events.New(typ, "s1", time.Unix(1, 0), "cmd", 1, data)
		if err != nil {
			t.Fatal(err)
		}
		e.ID, e.StreamVersion = "ev", 3
		b, err := events.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := events.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		typed, fromBytes := ReplyFor(e, 9), ReplyFor(stored, 9)
		if typed != fromBytes {
			t.Errorf("%s: reply from the payload %+v, from the stored event %+v", typ, typed, fromBytes)
		}
		if reflect.ValueOf(data).FieldByName("MessageID").IsValid() && typed.MessageID == "" ||
			reflect.ValueOf(data).FieldByName("CallID").IsValid() && typed.CallID == "" {
			t.Errorf("%s: reply %+v lacks the data's id", typ, typed)
		}
	}
}

// The reply of every registered type names the aggregate its subject kind
// says and the ids its payload carries, whether built from the decided
// event or from its stored bytes.
func TestReplyForEveryRegisteredType(t *testing.T) {
	for _, info := range events.Registry {
		e, err := testkit.SampleEvent(info.Type)
		if err != nil {
			t.Fatal(err)
		}
		r, err := testkit.SampleRecorded(info.Type, 9)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := testkit.SamplePayload(info.Type)
		want := api.CommandReply{EventID: e.ID, StreamSeq: 9, Position: "v1.9", Version: 1, PolicyVersion: 1}
		want.MessageID, want.CallID = p.IDs()
		switch info.Subject {
		case events.SubjectConversation:
			want.ConversationID = e.Subject
		case events.SubjectAccount:
			want.Account = e.Subject
		}
		if got := ReplyFor(e, 9); got != want {
			t.Errorf("%s: reply %+v, want %+v", info.Type, got, want)
		}
		if got := ReplyFor(r.Event, 9); got != want {
			t.Errorf("%s: reply from the stored event %+v, want %+v", info.Type, got, want)
		}
	}
}
