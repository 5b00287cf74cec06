package service_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/feed"
	"github.com/crosstalk-dev/crosstalk/service"
)

// newFeedHarness is a harness whose views publish their live feeds on its
// connection, through wrap's publisher if wrap is not nil.
func newFeedHarness(t *testing.T, wrap func(*nats.Conn) feed.Publisher) *harness {
	h := newHarness(t)
	var pub feed.Publisher = h.nc
	if wrap != nil {
		pub = wrap(h.nc)
	}
	h.feeds = feed.New(pub)
	h.restart(service.Options{})
	return h
}

// feedRecorder collects what arrives on a feed subject.
type feedRecorder struct {
	t  *testing.T
	ch chan *nats.Msg
}

func (h *harness) record(subject string) *feedRecorder {
	h.t.Helper()
	r := &feedRecorder{t: h.t, ch: make(chan *nats.Msg, 1024)}
	sub, err := h.nc.ChanSubscribe(subject, r.ch)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := h.nc.Flush(); err != nil {
		h.t.Fatal(err)
	}
	return r
}

// until returns the notifications received up to and including the first
// that stop accepts.
func (r *feedRecorder) until(stop func(api.Notification) bool) []api.Notification {
	r.t.Helper()
	var got []api.Notification
	for {
		select {
		case m := <-r.ch:
			var n api.Notification
			if err := json.Unmarshal(m.Data, &n); err != nil {
				r.t.Fatalf("notification %s: %v", m.Data, err)
			}
			got = append(got, n)
			if stop(n) {
				return got
			}
		case <-time.After(10 * time.Second):
			r.t.Fatalf("feed: no end after %d notifications: %+v", len(got), got)
		}
	}
}

// all returns what arrived so far, after a moment for stragglers.
func (r *feedRecorder) all() []api.Notification {
	time.Sleep(100 * time.Millisecond)
	var got []api.Notification
	for {
		select {
		case m := <-r.ch:
			var n api.Notification
			_ = json.Unmarshal(m.Data, &n)
			got = append(got, n)
		default:
			return got
		}
	}
}

func kinds(ns []api.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Kind + " " + n.Account
	}
	return out
}

// The story, seen from messenger:bob's feed: Alice's message and
// her status under v1; once v2 takes effect the closing of their chat and
// the notice that her status and receipts are hidden; after it, nothing of
// hers, whatever she does. Carol, in a chat of her own, hears nothing of
// Alice's chat with Bob.
func TestFeedBobSeesThePolicyChange(t *testing.T) {
	h := newFeedHarness(t, nil)
	bobFeed, carolFeed := h.record(api.FeedSubject(string(bob))), h.record(api.FeedSubject(string(carol)))
	h.publishFile("v1-2020-cross-app.json")
	h.waitApplied(1) // in force before the chat exists: it reveals nothing to anyone yet
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	sent := h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "hi bob"})
	h.must(alice, "presence.set", map[string]any{"status": "active"})
	h.must(carol, "conversation.start", map[string]any{"participants": []events.Account{"messenger:dave"}})

	h.clock.Set(time.Date(2023, 12, 15, 9, 0, 0, 0, time.UTC))
	h.publishFile("v2-2023-12-cross-app-disconnect.json")
	h.waitApplied(2)
	h.must(alice, "presence.set", map[string]any{"status": "idle"})
	_, _ = h.cmd(alice, "message.read", map[string]any{"conversation_id": conv, "message_id": sent.MessageID})
	h.must(alice, "settings.set", map[string]any{"show_activity_status": true, "send_read_receipts": true})
	h.must(alice, "presence.set", map[string]any{"status": "active"})
	h.must(bob, "presence.set", map[string]any{"status": "active"}) // the end marker: Bob's own

	got := bobFeed.until(func(n api.Notification) bool { return n.Kind == api.NotePresenceChanged && n.Account == string(bob) })
	want := []string{
		"conversation.started instagram:alice", "message.sent instagram:alice", "presence.changed instagram:alice",
		"conversation.closed ", "visibility.changed instagram:alice", "presence.changed messenger:bob",
	}
	if !slices.Equal(kinds(got), want) {
		t.Fatalf("bob's feed:\n got %q\nwant %q", kinds(got), want)
	}
	for i, n := range got {
		if n.N != uint64(i+1) || n.Seq == 0 || n.At.IsZero() {
			t.Errorf("notification %d: n=%d seq=%d at=%v; want n=%d, a seq and a time", i, n.N, n.Seq, n.At, i+1)
		}
	}
	if n := got[1]; n.Text != "hi bob" || n.MessageID != sent.MessageID || n.ConversationID != conv {
		t.Errorf("message.sent: %+v", n)
	}
	if n := got[3]; n.Reason != events.ClosedByPolicy || n.PolicyVersion != 2 || n.ConversationID != conv {
		t.Errorf("conversation.closed: %+v", n)
	}
	if n := got[4]; n.PolicyVersion != 2 || n.ActivityStatus == nil || *n.ActivityStatus ||
		n.ReadReceipts == nil || *n.ReadReceipts {
		t.Errorf("visibility.changed: %+v; want both hidden by version 2", n)
	}
	if late := bobFeed.all(); len(late) > 0 {
		t.Errorf("bob's feed after the marker: %q", kinds(late))
	}
	for _, n := range carolFeed.all() {
		if n.ConversationID == conv || n.Account == string(alice) || n.Account == string(bob) {
			t.Errorf("carol heard of alice and bob: %+v", n)
		}
	}
}

// dropping is a feed.Publisher that loses the notifications numbered in
// drop, as core NATS may.
type dropping struct {
	nc   *nats.Conn
	mu   sync.Mutex
	drop map[uint64]bool
}

func (d *dropping) Publish(subject string, data []byte) error {
	var n api.Notification
	_ = json.Unmarshal(data, &n)
	d.mu.Lock()
	lost := d.drop[n.N] && subject == api.FeedSubject(string(bob))
	d.mu.Unlock()
	if lost {
		return nil
	}
	return d.nc.Publish(subject, data)
}

// A client that follows Bob's feed through client.Feed, which loses a
// notification, resyncs and ends up with exactly what the queries answer.
func TestFeedResyncAfterAGapConverges(t *testing.T) {
	h := newFeedHarness(t, func(nc *nats.Conn) feed.Publisher { return &dropping{nc: nc, drop: map[uint64]bool{3: true}} })
	h.publishFile("v1-2020-cross-app.json")
	h.waitApplied(1) // announced before the chat: the feed's numbers are the test's
	started := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}})
	conv := started.ConversationID

	var mu sync.Mutex
	state := map[string]string{} // message id -> text, as Bob's client shows it
	resyncs := 0
	resync := func(ctx context.Context, fromSeq uint64) error {
		var page api.MessagePage
		// the client learnt of the chat before it followed the feed: its
		// first load reads from the chat's start on
		err := h.c.Query(ctx, api.QueryMessages, api.MessagesQuery{QueryBase: api.QueryBase{MinSeq: max(fromSeq, started.StreamSeq)},
			ConversationID: conv, Viewer: string(bob), Limit: api.MaxPageSize}, &page)
		mu.Lock()
		defer mu.Unlock()
		resyncs++
		clear(state)
		for _, m := range page.Items {
			state[m.MessageID] = m.Text
		}
		return err
	}
	onChange := func(n api.Notification) {
		mu.Lock()
		defer mu.Unlock()
		switch n.Kind {
		case api.NoteMessageSent, api.NoteMessageEdited:
			state[n.MessageID] = n.Text
		case api.NoteMessageUnsent:
			state[n.MessageID] = ""
		}
	}
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() { done <- h.c.Feed(ctx, string(bob), onChange, resync) }()
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return resyncs == 1 })

	first := h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "one"})                        // n=2 (1: started)
	h.must(bob, "message.send", map[string]any{"conversation_id": conv, "text": "two"})                                   // n=3, lost
	h.must(alice, "message.edit", map[string]any{"conversation_id": conv, "message_id": first.MessageID, "text": "one!"}) // n=4: a gap
	last := h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "three"})
	waitFor(t, func() bool {
		select {
		case err := <-done:
			t.Fatalf("Feed ended early: %v", err)
		default:
		}
		mu.Lock()
		defer mu.Unlock()
		_, ok := state[last.MessageID]
		return ok
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	var page api.MessagePage
	h.mustQuery(api.QueryMessages, map[string]any{"conversation_id": conv, "viewer": bob}, &page)
	want := map[string]string{}
	for _, m := range page.Items {
		want[m.MessageID] = m.Text
	}
	if resyncs != 2 || !maps.Equal(state, want) {
		t.Fatalf("after %d resyncs (want 2) the client shows %v; the query answers %v", resyncs, state, want)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met in 10s")
}

// An online rebuild folds the whole log again and publishes nothing of it;
// the rebuilt views then carry the live feeds on, numbering from 1 again,
// which a client takes for a gap.
func TestFeedRebuildPublishesNothing(t *testing.T) {
	h := newFeedHarness(t, nil)
	h.publishFile("v1-2020-cross-app.json")
	h.waitApplied(1) // announced before the rebuild starts
	live := h.record(api.FeedPrefix + ">")
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	for i := range 5 {
		h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": string(rune('a' + i))})
	}
	count := 0 // both hear of the start and of each message: 12 notes
	live.until(func(api.Notification) bool { count++; return count == 12 })
	all := h.record(api.FeedPrefix + ">")
	if _, err := h.c.RebuildViews(h.ctx); err != nil {
		t.Fatal(err)
	}
	if p := h.waitRebuilt(); p.State != api.RebuildDone {
		t.Fatalf("rebuild: %+v", p)
	}
	if got := all.all(); len(got) > 0 {
		t.Fatalf("the rebuild published %q", kinds(got))
	}
	h.must(bob, "message.send", map[string]any{"conversation_id": conv, "text": "after"})
	seen := 0
	got := all.until(func(api.Notification) bool { seen++; return seen == 2 })
	if got[0].Text != "after" || got[1].Text != "after" || got[0].N != 1 || got[1].N != 1 {
		t.Fatalf("after the rebuild: %+v; want the message to both, each numbered 1", got)
	}
}

// A restart after v2 was announced does not announce it again: the views
// keep which version they announced.
func TestFeedRestartDoesNotRepeatAnAnnouncement(t *testing.T) {
	h := newFeedHarness(t, nil)
	h.publishFile("v1-2020-cross-app.json")
	h.waitApplied(1)
	h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}})
	announced := h.record(api.FeedSubject(string(bob)))
	h.clock.Set(time.Date(2023, 12, 15, 9, 0, 0, 0, time.UTC))
	h.publishFile("v2-2023-12-cross-app-disconnect.json")
	h.waitApplied(2)
	// the views may publish the announcement a moment after they apply
	// v2: wait for it, so that only a repeat can reach the next recorder
	announced.until(func(n api.Notification) bool { return n.Kind == api.NoteVisibilityChanged })
	bobFeed := h.record(api.FeedSubject(string(bob)))
	h.restart(service.Options{})
	h.waitApplied(2)
	h.must(bob, "presence.set", map[string]any{"status": "active"})
	got := bobFeed.until(func(n api.Notification) bool { return n.Kind == api.NotePresenceChanged })
	if len(got) != 1 || got[0].N != 4 { // started, closed, visibility.changed, then this
		t.Fatalf("bob's feed after the restart: %+v; want only his presence, numbered 4", got)
	}
}
