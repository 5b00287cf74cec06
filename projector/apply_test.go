package projector

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/crosstalk-dev/crosstalk/projector/views"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

func TestConversationViewCountsEveryEvent(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.start("c1", alice, bob)
	f.send("c1", "m1", alice, "hi")
	f.conv("c1", events.CallStarted, events.CallStartedData{CallID: "k1", By: bob, Media: "audio"})
	f.conv("c1", events.CallEnded, events.CallEndedData{CallID: "k1", By: bob})
	mustApply(t, s, f.take())

	got, err := s.Conversation("c1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 4 || !got.CrossApp || got.Closed || len(got.Participants) != 2 {
		t.Fatalf("conversation = %+v, want version 4, cross-app, open, 2 participants", got)
	}
	if _, err := s.Conversation("nope"); !errors.Is(err, ErrConversationNotFound) {
		t.Fatalf("unknown conversation: err = %v", err)
	}
	if s.Checkpoint() != 4 {
		t.Fatalf("checkpoint = %d, want 4", s.Checkpoint())
	}
}

// TestHistoryIsByteIdentical checks that hist/ holds the stored bytes, in
// (subject, seq) order, and that closing and unsending rewrite none of them.
func TestHistoryIsByteIdentical(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.seedPolicies()
	f.start("c1", alice, bob)
	f.send("c1", "m1", alice, "secret")
	f.presence(bob, events.StatusActive)
	f.unsend("c1", "m1", alice)
	f.closeByPolicy("c1", 2)
	msgs := f.take()
	mustApply(t, s, msgs)

	want := map[uint64]events.Message{}
	for _, m := range msgs {
		want[m.Seq] = m
	}
	var prev []byte
	err := s.History(func(subject string, seq uint64, data []byte) error {
		m, ok := want[seq]
		if !ok || m.Subject != subject || !bytes.Equal(m.Data, data) {
			t.Errorf("history seq %d on %s differs from the log", seq, subject)
		}
		delete(want, seq)
		k := views.HistKey(subject, seq)
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			t.Errorf("history out of order at seq %d", seq)
		}
		prev = k
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 0 {
		t.Fatalf("history misses %d events", len(want))
	}
	if !strings.Contains(string(msgs[3].Data), "secret") {
		t.Fatal("the message.sent event should still hold the unsent text")
	}
}

func TestHistoryStopsOnError(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.start("c1", alice, bob)
	f.send("c1", "m1", alice, "hi")
	mustApply(t, s, f.take())
	stop := errors.New("stop")
	calls := 0
	err := s.History(func(string, uint64, []byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("History = %v after %d calls, want stop after 1", err, calls)
	}
}

// TestClosingIsReadOnlyNotDestructive checks conversation.closed: closed
// and closed_by_policy set, open/ entry removed, the policy's count
// incremented, and messages, markers and inbox kept.
func TestClosingIsReadOnlyNotDestructive(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.seedPolicies()
	f.start("c1", alice, bob)
	f.start("c2", alice, carol)
	f.send("c1", "m1", alice, "before the change")
	f.read("c1", "m1", bob)
	f.closeByPolicy("c1", 2)
	f.closeByPolicy("c1", 2) // a duplicate close changes nothing but the version
	mustApply(t, s, f.take())

	c, err := s.Conversation("c1")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Closed || c.ClosedByPolicy != 2 || c.CloseReason != events.ClosedByPolicy || c.Version != 5 {
		t.Fatalf("closed conversation = %+v", c)
	}
	var open []string
	if err := s.OpenConversations(func(id string, _ []events.App) error { open = append(open, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0] != "c2" {
		t.Fatalf("open conversations = %v, want [c2]", open)
	}
	page, err := s.Messages("c1", bob, 0, "", afterV2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Text != "before the change" || page.ReadReceipts[string(bob)] != "m1" {
		t.Fatalf("messages after close = %+v", page)
	}
	inbox, err := s.Inbox(bob, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(inbox.Items) != 1 || !inbox.Items[0].Closed || inbox.Items[0].ClosedByPolicy != 2 {
		t.Fatalf("bob's inbox after close = %+v", inbox)
	}
	views, err := s.Policies()
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 2 || views[0].Closed != 0 || views[1].Closed != 1 {
		t.Fatalf("policy views = %+v, want v2 closed 1", views)
	}
}

// TestRestartNeverDoubleApplies reopens the store and replays the same
// messages, and a run overlapping the checkpoint: only new ones count.
func TestRestartNeverDoubleApplies(t *testing.T) {
	dir := t.TempDir()
	f := newFeed(t)
	f.start("c1", alice, bob)
	f.send("c1", "m1", alice, "one")
	f.send("c1", "m2", alice, "two")
	f.seedPolicies()
	f.closeByPolicy("c1", 2)
	first := f.take()

	s, err := Open(Options{Dir: dir, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, first)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStoreIn(t, dir, testkit.Quiet())
	if s.Checkpoint() != uint64(len(first)) {
		t.Fatalf("checkpoint after reopen = %d, want %d", s.Checkpoint(), len(first))
	}
	mustApply(t, s, first)
	f.send("c2", "x", bob, "orphan") // never started: kept in hist/ only
	mustApply(t, s, append(first[3:], f.take()...))

	assertUnread(t, s, bob, "c1", 2)
	c, _ := s.Conversation("c1")
	if c.Version != 4 {
		t.Fatalf("version after replays = %d, want 4", c.Version)
	}
	views, _ := s.Policies()
	if len(views) != 2 || views[1].Closed != 1 {
		t.Fatalf("policy closed counts after replays = %+v", views)
	}
	if s.Checkpoint() != 7 {
		t.Fatalf("checkpoint = %d, want 7", s.Checkpoint())
	}
}

// TestPoisonIsRecordedAndSkipped feeds bytes that are not an event, and an
// event on a subject of the wrong kind, between good ones.
func TestPoisonIsRecordedAndSkipped(t *testing.T) {
	var logs testkit.LockedBuffer
	s, f := openStoreIn(t, t.TempDir(), logs.Logger()), newFeed(t)
	f.start("c1", alice, bob)
	f.seq++
	garbage := events.Message{Seq: f.seq, Subject: events.ConversationSubject("c1"), Data: []byte("{not json")}
	misplaced := f.event(events.AccountSubject(alice), string(alice), events.MessageSent,
		events.MessageSentData{MessageID: "m0", Sender: alice, Text: "wrong subject"})
	f.send("c1", "m1", alice, "hi")
	msgs := append([]events.Message{f.pending[0], garbage}, f.pending[1:]...)
	mustApply(t, s, msgs)

	if s.Checkpoint() != 4 {
		t.Fatalf("checkpoint = %d, want 4 (past the poison)", s.Checkpoint())
	}
	for _, seq := range []uint64{garbage.Seq, misplaced.Seq} {
		var rec views.PoisonRecord
		found, err := views.GetJSON(s.db, views.PoisonKey(seq), &rec)
		if err != nil || !found || rec.Error == "" || rec.Subject == "" {
			t.Fatalf("poison record of seq %d = %+v, %v, %v", seq, rec, found, err)
		}
		if _, inHist, _ := views.Get(s.db, views.HistKey(rec.Subject, seq)); inHist {
			t.Errorf("poison seq %d is in hist/", seq)
		}
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "seq=2") {
		t.Fatalf("poison not logged as a warning: %s", logs.String())
	}
	assertUnread(t, s, bob, "c1", 1)
	listed, err := s.Poisoned()
	if err != nil || len(listed) != 2 || listed[0].Seq != garbage.Seq || listed[1].Seq != misplaced.Seq || listed[0].Error == "" {
		t.Fatalf("Poisoned() = %+v, %v", listed, err)
	}
}

// TestAccountsBecomeKnown checks acct/: known from a conversation's
// participants or their own first event, with defaults; last_active_at from
// an active presence or a sent message.
func TestAccountsBecomeKnown(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	dave := events.Account("messenger:dave")
	f.settings(dave, false, true)
	f.start("c1", alice, bob)
	f.presence(alice, events.StatusIdle)
	sent := f.send("c1", "m1", bob, "hi")
	f.presence(alice, events.StatusActive)
	activeAt := f.now
	mustApply(t, s, f.take())

	for _, a := range []events.Account{alice, bob, dave} {
		if _, err := s.Presence(a, a, afterV2); err != nil {
			t.Errorf("%s should be known: %v", a, err)
		}
	}
	if _, err := s.Presence(bob, carol, afterV2); !errors.Is(err, ErrUnknownAccount) {
		t.Fatalf("carol has no events; err = %v", err)
	}
	got, _ := s.Presence(alice, alice, afterV2)
	if got.Status != events.StatusActive || got.LastActiveAt == nil || !got.LastActiveAt.Equal(activeAt) {
		t.Fatalf("alice's presence = %+v, want active at %v", got, activeAt)
	}
	got, _ = s.Presence(bob, bob, afterV2)
	e, _ := events.Decode(sent.Data)
	if got.Status != events.StatusOffline || got.LastActiveAt == nil || !got.LastActiveAt.Equal(e.Time) {
		t.Fatalf("bob's presence = %+v, want offline, last active when he sent", got)
	}
	var rec views.AccountRecord
	if _, err := views.GetJSON(s.db, views.AcctKey(dave), &rec); err != nil || rec.ShowActivityStatus || !rec.SendReadReceipts || !rec.Known {
		t.Fatalf("dave's record = %+v, %v", rec, err)
	}
}

func TestApplyAfterCloseFails(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f := newFeed(t)
	f.start("c1", alice, bob)
	if err := s.Apply(f.take()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Apply after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Inbox(alice, 0, ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("Inbox after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestOpenNeedsDir(t *testing.T) {
	if _, err := Open(Options{}); err == nil {
		t.Fatal("Open without Dir succeeded")
	}
	var o Options
	o.EnsureDefaults()
	if o.CacheSize != DefaultCacheSize || o.MaxBatch != DefaultMaxBatch || o.RetryInterval != DefaultRetryInterval || o.Logger == nil {
		t.Fatalf("defaults = %+v", o)
	}
}

func assertUnread(t *testing.T, s *Store, a events.Account, conv string, want int) {
	t.Helper()
	page, err := s.Inbox(a, MaxPageSize, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range page.Items {
		if it.ConversationID == conv {
			if it.Unread != want {
				t.Fatalf("%s's unread in %s = %d, want %d", a, conv, it.Unread, want)
			}
			return
		}
	}
	t.Fatalf("%s's inbox has no %s", a, conv)
}

// TestRebuildEqualsIncremental applies one log in a single batch and one
// message per batch: the stores must be equal key for key, which is what
// makes the store disposable (rebuild by replay) and proves the in-batch
// caches see the run's own writes.
func TestRebuildEqualsIncremental(t *testing.T) {
	f := newFeed(t)
	f.seedPolicies()
	f.start("c1", alice, bob, carol)
	f.start("c2", bob, carol)
	f.send("c1", "m1", alice, "1")
	f.send("c2", "n1", bob, "x")
	f.send("c1", "m2", bob, "2")
	f.read("c1", "m1", bob)
	f.edit("c1", "m2", bob, "2!")
	f.react("c1", "m2", carol, "🔥")
	f.send("c1", "m3", alice, "3")
	f.unsend("c1", "m3", alice)
	f.read("c1", "m2", carol)
	f.presence(carol, events.StatusActive)
	f.settings(bob, true, false)
	f.closeByPolicy("c1", 2)
	f.read("c1", "m2", alice)
	msgs := f.take()

	whole, single := openStore(t), openStore(t)
	mustApply(t, whole, msgs)
	for _, m := range msgs {
		mustApply(t, single, []events.Message{m})
	}
	a, b := dump(t, whole), dump(t, single)
	if len(a) != len(b) {
		t.Fatalf("one batch has %d keys, one per message %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("stores differ at entry %d:\n one batch   %q\n per message %q", i, a[i], b[i])
		}
	}
}

// dump lists every key and value of the store, in key order.
func dump(t *testing.T, s *Store) []string {
	t.Helper()
	it, err := s.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []string
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, string(it.Key())+" = "+string(it.Value()))
	}
	return out
}
