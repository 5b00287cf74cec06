package aggregate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// A sealed command's event id derives from its Digest, not its text: the
// same digest is the same command, another digest another, and the id of a
// sealed send is not the id its text alone would give, which anyone who
// guesses the text could recompute.
func TestDigestReplacesTheTextInTheSeed(t *testing.T) {
	const id, msg = "0190c2d4-0000-7000-8000-000000000001", "0190c2d4-0000-7000-8000-0000000000aa"
	m := Meta{CommandID: id, App: "instagram", Actor: "instagram:alice"}
	for _, c := range []struct {
		sealed, same, other, clear Command
	}{
		{SendMessage{Meta: m, Text: "hi", Digest: "d1.aa"}, SendMessage{Meta: m, Text: "other", Digest: "d1.aa"},
			SendMessage{Meta: m, Text: "hi", Digest: "d1.bb"}, SendMessage{Meta: m, Text: "hi"}},
		{EditMessage{Meta: m, MessageID: msg, Text: "hi", Digest: "d1.aa"}, EditMessage{Meta: m, MessageID: msg, Text: "x", Digest: "d1.aa"},
			EditMessage{Meta: m, MessageID: msg, Text: "hi", Digest: "d1.bb"}, EditMessage{Meta: m, MessageID: msg, Text: "hi"}},
		{ReactToMessage{Meta: m, MessageID: msg, Reaction: "+1", Digest: "d1.aa"}, ReactToMessage{Meta: m, MessageID: msg, Reaction: "x", Digest: "d1.aa"},
			ReactToMessage{Meta: m, MessageID: msg, Reaction: "+1", Digest: "d1.bb"}, ReactToMessage{Meta: m, MessageID: msg, Reaction: "+1"}},
	} {
		e := decided(t, c.sealed, convID)
		if !SameCommand(e, c.same) {
			t.Errorf("%T: the same digest is taken for another command", c.sealed)
		}
		if SameCommand(e, c.other) {
			t.Errorf("%T: another digest is taken for a retry", c.sealed)
		}
		if SameCommand(e, c.clear) || decided(t, c.clear, convID).ID == e.ID {
			t.Errorf("%T: the sealed command's id derives from its text", c.sealed)
		}
	}
}

// Message indices are the leaves of the scope's key tree: 0-based, in the
// order of message.sent, the same after the message left memory and was
// recalled, and after a snapshot.
func TestMessageIndices(t *testing.T) {
	f := newConvFixture(t)
	var ids []string
	for i := range MessageMemory + 5 {
		if got := f.c.NextMessageIndex(); got != uint32(i) {
			t.Fatalf("next index %d before message %d", got, i)
		}
		ids = append(ids, f.send("messenger:a"))
	}
	if _, err := f.c.MessageIndex(ids[0]); !errors.Is(err, ErrMessageNotFound) {
		t.Errorf("a message out of memory: %v, want ErrMessageNotFound until recalled", err)
	}
	for _, i := range []int{0, 1, MessageMemory, MessageMemory + 4} {
		f.rs.recall(f.c, f.c.Wanted(ReadMessage{Meta: f.meta("messenger:a"), MessageID: ids[i]}))
		if got, err := f.c.MessageIndex(ids[i]); err != nil || got != uint32(i) {
			t.Errorf("message %d: index %d, %v", i, got, err)
		}
	}
}

// A snapshot carries how far content expired: restored, the conversation
// refuses an expiry that reaches no further, as the original does.
func TestSnapshotCarriesTheExpiry(t *testing.T) {
	f := newConvFixture(t)
	for range 3 {
		f.send("messenger:a")
	}
	f.must(ExpireContent{CommandID: events.NewID(), Through: 1, Before: f.now, PolicyVersion: 1})
	data, err := f.c.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	back, err := RestoreConversation(data)
	if err != nil {
		t.Fatal(err)
	}
	if at, ok := back.ExpiredThrough(); !ok || at != 1 {
		t.Fatalf("restored expiry %d, %t; want 1", at, ok)
	}
	again := ExpireContent{CommandID: events.NewID(), Through: 1, Before: f.now, PolicyVersion: 1}
	if _, err := back.Decide(again, nil, f.now.Add(time.Second)); !errors.Is(err, ErrNotAffected) {
		t.Errorf("restored: %v, want ErrNotAffected", err)
	}
	old := strings.Replace(string(data), `"format":2`, `"format":1`, 1)
	if _, err := RestoreConversation([]byte(old)); err != nil {
		t.Errorf("a format 1 snapshot: %v", err)
	}
}
