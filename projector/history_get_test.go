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

// TestSubjectHistoryIsOneSubjectInOrder checks that SubjectHistory returns
// exactly one subject's stored bytes, in order, after the given sequence,
// and nothing of a subject whose name extends it.
func TestSubjectHistoryIsOneSubjectInOrder(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.start("c1", alice, bob)
	f.start("c1-b", alice, bob)
	f.send("c1", "m1", alice, "one")
	f.send("c1-b", "x", alice, "other")
	f.send("c1", "m2", bob, "two")
	msgs := f.take()
	mustApply(t, s, msgs)
	subject := events.ConversationSubject("c1")
	var want []events.Message
	for _, m := range msgs {
		if m.Subject == subject && m.Seq > 1 {
			want = append(want, m)
		}
	}
	var got []events.Message
	err := s.SubjectHistory(subject, 1, func(seq uint64, data []byte) error {
		got = append(got, events.Message{Seq: seq, Subject: subject, Data: bytes.Clone(data)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Seq != want[i].Seq || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("event %d: seq %d, want %d (or the bytes differ)", i, got[i].Seq, want[i].Seq)
		}
	}
}
