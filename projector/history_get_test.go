package projector

import (
	"bytes"
	"errors"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
)

func TestHistoryEventReturnsTheStoredBytes(t *testing.T) {
	s := openStore(t)
	f := newFeed(t)
	f.seedPolicies()
	f.start("c1", alice, bob)
	sent := f.send("c1", "m1", alice, "hey Bob")
	mustApply(t, s, f.take())

	got, found, err := s.HistoryEvent(sent.Subject, sent.Seq)
	if err != nil || !found || !bytes.Equal(got, sent.Data) {
		t.Fatalf("HistoryEvent(%s, %d) = %q, %v, %v; want the stored bytes", sent.Subject, sent.Seq, got, found, err)
	}
	got[0] = 'X' // a copy: changing it changes nothing stored
	again, _, _ := s.HistoryEvent(sent.Subject, sent.Seq)
	if !bytes.Equal(again, sent.Data) {
		t.Fatal("HistoryEvent must return a copy")
	}
	for _, miss := range []struct {
		subject string
		seq     uint64
	}{
		{sent.Subject, sent.Seq + 1},                 // no event at that seq
		{events.ConversationSubject("c2"), sent.Seq}, // the seq is on another subject
		{events.ConversationSubject("c"), sent.Seq},  // a prefix of the subject
	} {
		if _, found, err := s.HistoryEvent(miss.subject, miss.seq); found || err != nil {
			t.Errorf("HistoryEvent(%s, %d): found %v, err %v; want not found", miss.subject, miss.seq, found, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.HistoryEvent(sent.Subject, sent.Seq); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}
