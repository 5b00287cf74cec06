package projector

import (
	"slices"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector/views"
)

// retentionStory sends two messages in c1 and one in c2 on day 0, one more
// in c1 on day 40, then expires c1 through index 1 (its day-0 messages).
// It returns the messages before the expiry, the expiry, and day 0.
func retentionStory(t *testing.T) (sent, expiry []events.Message, day0 time.Time) {
	f := newFeed(t)
	day0 = f.now
	f.start("c1", alice, bob)
	f.send("c1", "m0", alice, "a")
	f.send("c1", "m1", bob, "b")
	f.start("c2", carol, alice)
	f.send("c2", "n0", carol, "c")
	f.now = day0.Add(40 * 24 * time.Hour)
	f.send("c1", "m2", alice, "d")
	sent = f.take()
	f.conv("c1", events.ContentExpired, events.ContentExpiredData{Through: 1, Before: day0.Add(30 * 24 * time.Hour), PolicyVersion: 3})
	return sent, f.take(), day0
}

func due(t *testing.T, s *Store, before time.Time, limit int) []views.Due {
	t.Helper()
	d, err := s.DueForRetention(before, limit)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// What is due is grouped per conversation, oldest first, with the largest
// index sent before the cutoff and the distinct senders; the limit counts
// conversations.
func TestDueForRetentionGroupsByConversation(t *testing.T) {
	sent, _, day0 := retentionStory(t)
	s := openStore(t)
	mustApply(t, s, sent)
	cutoff := day0.Add(30 * 24 * time.Hour)
	want := []views.Due{
		{ConversationID: "c1", Through: 1, Senders: []string{string(alice), string(bob)}},
		{ConversationID: "c2", Through: 0, Senders: []string{string(carol)}},
	}
	if got := due(t, s, cutoff, 10); !slices.EqualFunc(got, want, sameDue) {
		t.Fatalf("due before day 30: %+v, want %+v", got, want)
	}
	if got := due(t, s, cutoff, 1); !slices.EqualFunc(got, want[:1], sameDue) {
		t.Fatalf("one page of one: %+v, want %+v", got, want[:1])
	}
	if got := due(t, s, day0.Add(50*24*time.Hour), 10); len(got) != 2 || got[0].Through != 2 {
		t.Fatalf("due before day 50: %+v, want c1 through 2 and c2", got)
	}
	if got := due(t, s, day0, 10); len(got) != 0 {
		t.Fatalf("due before day 0: %+v, want none", got)
	}
}

// A content.expired removes its conversation's entries up to its Through,
// whether they were committed before or sent in the same run, so each
// message is due once; the views after it are the same either way, and
// not those without it (Checksum covers the index).
func TestContentExpiredMakesMessagesDueOnce(t *testing.T) {
	sent, expiry, day0 := retentionStory(t)
	apart, together, before := openStore(t), openStore(t), openStore(t)
	mustApply(t, apart, sent)
	mustApply(t, apart, expiry)
	mustApply(t, together, append(slices.Clone(sent), expiry...))
	mustApply(t, before, sent)
	want := []views.Due{
		{ConversationID: "c2", Through: 0, Senders: []string{string(carol)}},
		{ConversationID: "c1", Through: 2, Senders: []string{string(alice)}},
	}
	for name, s := range map[string]*Store{"apart": apart, "together": together} {
		if got := due(t, s, day0.Add(50*24*time.Hour), 10); !slices.EqualFunc(got, want, sameDue) {
			t.Fatalf("%s: due after the expiry %+v, want %+v", name, got, want)
		}
	}
	a, b, c := checksum(t, apart), checksum(t, together), checksum(t, before)
	if a != b || a == c {
		t.Fatalf("checksums: apart %s, together %s, without the expiry %s", a, b, c)
	}
}

func sameDue(a, b views.Due) bool {
	return a.ConversationID == b.ConversationID && a.Through == b.Through && slices.Equal(a.Senders, b.Senders)
}

func checksum(t *testing.T, s *Store) string {
	t.Helper()
	h, _, err := s.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
