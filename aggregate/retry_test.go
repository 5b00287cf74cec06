package aggregate

import (
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// decided returns the event that cmd would be stored as on subject.
func decided(t *testing.T, cmd Command, subject string) events.Event {
	t.Helper()
	var s Stream
	e, err := s.next(events.MessageSent, subject, defaultNow, cmd, 0, events.MessageSentData{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestSameCommandTellsARetryFromAReuse: every field a producer gives is
// part of what makes a command itself; only an identical command (up to the
// participants' order, the principal and what the service fills in) is a
// retry.
func TestSameCommandTellsARetryFromAReuse(t *testing.T) {
	const id, msg = "0190c2d4-0000-7000-8000-000000000001", "0190c2d4-0000-7000-8000-0000000000aa"
	m := Meta{CommandID: id, App: "instagram", Actor: "instagram:alice"}
	other := m
	other.Actor = "instagram:bob"
	yes, no := true, false
	policy := func(v uint64) Policy { return Policy{Version: v, Name: "p", EffectiveAt: defaultNow} }
	for _, c := range []struct {
		first  Command
		same   []Command
		others []Command
	}{
		{
			first: SendMessage{Meta: m, Text: "hi"},
			same: []Command{
				SendMessage{Meta: Meta{CommandID: id, App: "instagram", Actor: "instagram:alice", Principal: "someone"}, Text: "hi"},
			},
			others: []Command{
				SendMessage{Meta: m, Text: "hi!"}, SendMessage{Meta: other, Text: "hi"},
				SendMessage{Meta: m, MessageID: msg, Text: "hi"}, EditMessage{Meta: m, Text: "hi"},
				ReactToMessage{Meta: m, Reaction: "hi"}, SetPresence{Meta: m, Status: "hi"},
				StartConversation{Meta: m}, Close{CommandID: id},
				PublishPolicy{CommandID: id, Policy: policy(1)},
			},
		},
		{
			first: StartConversation{Meta: m, Participants: []events.Account{"messenger:bob", "messenger:carol"}},
			same: []Command{
				StartConversation{Meta: m, Participants: []events.Account{"messenger:carol", "messenger:bob", "messenger:bob"}},
				StartConversation{Meta: m, Participants: []events.Account{"messenger:carol", "instagram:alice", "messenger:bob"},
					OptedIn: map[events.Account]bool{"messenger:bob": true}},
			},
			others: []Command{
				StartConversation{Meta: m, Participants: []events.Account{"messenger:bob"}},
				StartConversation{Meta: other, Participants: []events.Account{"messenger:bob", "messenger:carol"}},
			},
		},
		{
			first:  ChangeSettings{Meta: m, InteropOptIn: &no},
			same:   []Command{ChangeSettings{Meta: m, InteropOptIn: &no}},
			others: []Command{ChangeSettings{Meta: m, InteropOptIn: &yes}, ChangeSettings{Meta: m, SendReadReceipts: &no}},
		},
		{
			first:  StartCall{Meta: m, Media: "audio"},
			others: []Command{StartCall{Meta: m, Media: "video"}, EndCall{Meta: m}},
		},
		{
			first:  Close{CommandID: id, Policy: &Policy{Version: 2}},
			same:   []Command{Close{CommandID: id, Policy: &Policy{Version: 3}, Principal: "service"}},
			others: []Command{ReadMessage{Meta: m}, UnsendMessage{Meta: m}},
		},
		{
			first:  PublishPolicy{CommandID: id, Policy: policy(2)},
			same:   []Command{PublishPolicy{CommandID: id, Policy: policy(2), Principal: "admin"}},
			others: []Command{PublishPolicy{CommandID: id, Policy: policy(3)}},
		},
	} {
		e := decided(t, c.first, convID)
		if !SameCommand(e, c.first) {
			t.Errorf("%T: the event of a command is not its own", c.first)
		}
		for _, same := range c.same {
			if !SameCommand(e, same) {
				t.Errorf("%+v: a retry of %+v is taken for another command", same, c.first)
			}
		}
		for _, o := range c.others {
			if SameCommand(e, o) {
				t.Errorf("%+v is taken for a retry of %+v", o, c.first)
			}
		}
		// An id derived on another aggregate does not match here.
		moved := decided(t, c.first, "instagram:alice")
		moved.Subject = convID
		if SameCommand(moved, c.first) {
			t.Errorf("%T: an event id derived on another subject matched", c.first)
		}
	}
}

// TestSameCommandKeepsTheOldRuleForOldEvents: an event whose id derives
// from its command id and subject only (stored before the command's fields
// counted) is the duplicate of any command with its id on its subject.
func TestSameCommandKeepsTheOldRuleForOldEvents(t *testing.T) {
	const id = "0190c2d4-0000-7000-8000-000000000001"
	cmd := SendMessage{Meta: Meta{CommandID: id, App: "instagram", Actor: "instagram:alice"}, Text: "hi"}
	e := decided(t, cmd, convID)
	e.ID = events.DerivedID(defaultNow.Add(-time.Hour), id+"\x00"+convID)
	if !SameCommand(e, SendMessage{Meta: cmd.Meta, Text: "anything"}) {
		t.Error("an old event does not answer its command id")
	}
	e.CausationID = "0190c2d4-0000-7000-8000-000000000002"
	if SameCommand(e, cmd) {
		t.Error("an event of another command id matched")
	}
}
