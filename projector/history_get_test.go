package projector

import (
	"bytes"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/crosstalk-dev/crosstalk/aggregate"
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

// TestConversationHeadIsTheAggregatesPosition folds every conversation of a
// randomized log into its aggregate, as the command path loads it, and
// checks that the head the store gives (an unknown id gives none) has the same
// version, last sequence, chain hash, participants and closed flag.
func TestConversationHeadIsTheAggregatesPosition(t *testing.T) {
	s := openStore(t)
	msgs := randomLog(t, rand.New(rand.NewPCG(9, 9)), 500)
	for i := 0; i < len(msgs); i += 13 {
		mustApply(t, s, msgs[i:min(i+13, len(msgs))])
	}
	convs := map[string]*aggregate.Conversation{}
	for _, m := range msgs {
		kind, id := events.ClassifySubject(m.Subject)
		if kind != events.SubjectConversation {
			continue
		}
		if convs[id] == nil {
			convs[id] = aggregate.NewConversation(id)
		}
		r, err := events.Record(m.Seq, m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := convs[id].Evolve(r); err != nil {
			t.Fatal(err)
		}
	}
	ids := slices.Collect(maps.Keys(convs))
	heads := map[string]ConversationHead{}
	err := s.ConversationHeads(append(ids, "never", ids[0]), func(h ConversationHead) error {
		heads[h.ConversationID] = h
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(heads) != len(convs) {
		t.Fatalf("%d heads for %d conversations", len(heads), len(convs))
	}
	for id, c := range convs {
		h := heads[id]
		if h.Version != c.Stream.Version || h.LastSeq != c.Stream.LastSeq || h.LastHash != c.Stream.LastHash ||
			h.Closed != c.Closed || !slices.Equal(h.Participants, c.Participants) || !slices.Equal(h.Apps, c.Apps) {
			t.Errorf("head of %s = %+v, aggregate: version %d, last seq %d, hash %s, closed %v, participants %v, apps %v",
				id, h, c.Stream.Version, c.Stream.LastSeq, c.Stream.LastHash, c.Closed, c.Participants, c.Apps)
		}
		// The head decodes part of the record (views.HeadRecord): what it
		// shares with the view, which decodes the whole, must agree.
		v, err := s.Conversation(id)
		if err != nil {
			t.Fatal(err)
		}
		if h.CrossApp != v.CrossApp || h.ClosedByPolicy != v.ClosedByPolicy || h.CloseReason != v.CloseReason {
			t.Errorf("head of %s = %+v, view %+v", id, h, v)
		}
	}
}
