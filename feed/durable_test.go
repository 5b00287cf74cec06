package feed_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/feed"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// The texts no durable feed may hold (docs/erasure.md).
const (
	sentinelText     = "SENTINEL-TEXT-6f1d2c"
	sentinelReaction = "SENTINEL-REACTION-9a4e"
)

// history builds log messages as the service appends them.
type history struct {
	t    testing.TB
	seq  uint64
	now  time.Time
	msgs []events.Message
}

func (h *history) event(subject, key string, typ events.Type, data any) {
	h.t.Helper()
	h.now = h.now.Add(time.Second)
	e, err := events.New(typ, key, h.now, events.NewID(), 0, data)
	if err != nil {
		h.t.Fatal(err)
	}
	e.ID = events.NewID()
	h.seq++
	h.msgs = append(h.msgs, events.Message{Seq: h.seq, Subject: subject, Data: testkit.Encode(h.t, e)})
}

func (h *history) conv(id string, typ events.Type, data any) {
	h.event(events.ConversationSubject(id), id, typ, data)
}

func (h *history) account(a events.Account, typ events.Type, data any) {
	h.event(events.AccountSubject(a), string(a), typ, data)
}

var (
	alice = events.Account("instagram:alice")
	carol = events.Account("instagram:carol")
	bob   = events.Account("messenger:bob")
)

// story is a history whose notes the visibility rules filter: alice hides
// her activity status and carol sends no read receipts, so bob gets
// neither alice's presence nor carol's read marker; a message carries a
// sentinel text, a reaction a sentinel reaction.
func story(t testing.TB) []events.Message {
	h := &history{t: t, now: time.Date(2023, 12, 12, 9, 0, 0, 0, time.UTC)}
	h.event(events.PolicySubject, "policy", events.PolicyPublished,
		testkit.CrossAppPolicy(1, "v1", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), true))
	h.account(alice, events.SettingsChanged, events.SettingsChangedData{Account: alice, ShowActivityStatus: false, SendReadReceipts: true})
	h.account(carol, events.SettingsChanged, events.SettingsChangedData{Account: carol, ShowActivityStatus: true, SendReadReceipts: false})
	h.conv("c1", events.ConversationStarted, testkit.Started("c1", alice, bob, carol))
	h.conv("c1", events.MessageSent, events.MessageSentData{MessageID: "m1", Sender: alice, Text: sentinelText})
	h.conv("c1", events.MessageReacted, events.MessageReactedData{MessageID: "m1", Account: bob, Reaction: sentinelReaction})
	h.conv("c1", events.MessageRead, events.MessageReadData{MessageID: "m1", Account: carol})
	h.conv("c1", events.MessageRead, events.MessageReadData{MessageID: "m1", Account: bob})
	h.account(alice, events.PresenceChanged, events.PresenceChangedData{Account: alice, Status: "active"})
	h.account(bob, events.PresenceChanged, events.PresenceChangedData{Account: bob, Status: "active"})
	h.conv("c1", events.MessageEdited, events.MessageEditedData{MessageID: "m1", Editor: alice, Text: sentinelText + "-edited"})
	return h.msgs
}

// recorder keeps copies of the notes a store publishes.
type recorder struct{ notes []projector.Note }

func (r *recorder) Publish(ns []projector.Note) error {
	r.notes = append(r.notes, ns...)
	return nil
}

// durableWorld is a real nats-server with the durable feeds of instagram
// and messenger.
type durableWorld struct {
	srv *natstest.Server
	js  jetstream.JetStream
	d   *feed.Durable
}

func newDurableWorld(t *testing.T) *durableWorld {
	t.Helper()
	srv := natstest.Start(t)
	nc := srv.Connect(t)
	d, err := feed.OpenDurable(context.Background(), nc, feed.DurableOptions{Apps: []string{"instagram", "messenger"},
		Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return &durableWorld{srv: srv, js: srv.JetStream(t), d: d}
}

// apply applies msgs to a store in dir publishing on feeds, and waits
// until the durable streams acknowledged everything.
func (w *durableWorld) apply(t *testing.T, dir string, msgs []events.Message, feeds ...projector.Feeds) {
	t.Helper()
	s, err := projector.Open(projector.Options{Dir: dir, Logger: testkit.Quiet(), Feeds: feed.Fanout(feeds),
		Now: func() time.Time { return time.Date(2023, 12, 13, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Apply(msgs); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// stored returns the messages of app's durable feed stream.
func (w *durableWorld) stored(t *testing.T, app string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := w.js.Stream(ctx, api.DurableFeedStream(app))
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// The durable feeds hold exactly the notes the live feeds publish but
// presence, each in its viewer's app's stream on its viewer's subject, in
// order, without text or reaction: the live feed's visibility rules, no
// sealed content, and no presence (current state, and the widest fan-out:
// Durable.Publish says why).
func TestDurableFeedKeepsTheLiveNotesWithoutText(t *testing.T) {
	w := newDurableWorld(t)
	live := &recorder{}
	w.apply(t, t.TempDir(), story(t), live, w.d)
	want := map[string][]string{}
	for _, n := range live.notes {
		if n.Viewer == bob && n.Account != string(bob) && (n.Kind == api.NotePresenceChanged || n.Kind == api.NoteMessageRead) {
			t.Errorf("the live feed showed bob %s of %s, which the story hides", n.Kind, n.Account)
		}
		if n.Kind == api.NotePresenceChanged {
			continue
		}
		note := n.Notification
		note.Text, note.Reaction, note.Erased = "", "", nil
		b, err := json.Marshal(&note)
		if err != nil {
			t.Fatal(err)
		}
		app, _, _ := bytes.Cut([]byte(n.Viewer), []byte(":"))
		want[string(app)] = append(want[string(app)], api.DurableFeedSubject(string(n.Viewer))+" "+string(b))
	}
	for _, app := range []string{"instagram", "messenger"} {
		got := w.stored(t, app)
		if len(got) != len(want[app]) || len(got) == 0 {
			t.Fatalf("%s's durable feed holds %d notes, the live feeds published %d", app, len(got), len(want[app]))
		}
		for i, m := range got {
			if s := m.Subject + " " + string(m.Data); s != want[app][i] {
				t.Errorf("%s #%d:\n got %s\nwant %s", app, i, s, want[app][i])
			}
			if bytes.Contains(m.Data, []byte("SENTINEL")) || m.Header.Get(jetstream.MsgIDHeader) == "" {
				t.Errorf("%s #%d holds a sentinel or has no Nats-Msg-Id: %s %v", app, i, m.Data, m.Header)
			}
		}
	}
}

// A replay that publishes the same notes again (views that lost their last
// batches, or rebuilt ones publishing from the start) stores each once:
// the Nats-Msg-Id names the note, not the publication. What follows is
// stored once too.
func TestDurableFeedStoresARepublishOnce(t *testing.T) {
	w := newDurableWorld(t)
	msgs := story(t)
	w.apply(t, t.TempDir(), msgs[:len(msgs)-1], w.d)
	before := len(w.stored(t, "instagram")) + len(w.stored(t, "messenger"))
	live := &recorder{}
	w.apply(t, t.TempDir(), msgs, live, w.d) // a store built from nothing publishes the whole history again
	after := len(w.stored(t, "instagram")) + len(w.stored(t, "messenger"))
	edited, durable := 0, 0
	for _, n := range live.notes {
		if n.Kind == api.NoteMessageEdited {
			edited++
		}
		if n.Kind != api.NotePresenceChanged {
			durable++
		}
	}
	if edited != 3 || after != before+edited || durable != after {
		t.Errorf("the streams held %d notes, then %d after a republish of %d and %d new; want %d", before, after, durable, edited, durable)
	}
}

// Notes of an app without a stream are left out, not an error.
func TestDurableFeedLeavesOutAppsWithoutStream(t *testing.T) {
	srv := natstest.Start(t)
	d, err := feed.OpenDurable(context.Background(), srv.Connect(t), feed.DurableOptions{Apps: []string{"instagram"}, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	w := &durableWorld{srv: srv, js: srv.JetStream(t), d: d}
	w.apply(t, t.TempDir(), story(t), d)
	if n := len(w.stored(t, "instagram")); n == 0 {
		t.Error("instagram's durable feed is empty")
	}
	if _, err := w.js.Stream(context.Background(), api.DurableFeedStream("messenger")); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("messenger's stream: %v, want none", err)
	}
}

// EnsureStreams creates each stream with the retention asked for, and
// sets an existing one's to a new one; Validate refuses what no stream
// can have.
func TestDurableFeedStreams(t *testing.T) {
	ctx := context.Background()
	js := natstest.Start(t).JetStream(t)
	for _, age := range []time.Duration{time.Hour, 3 * time.Hour} {
		if err := feed.EnsureStreams(ctx, js, feed.DurableOptions{Apps: []string{"instagram"}, MaxAge: age, Logger: testkit.Quiet()}); err != nil {
			t.Fatal(err)
		}
		s, err := js.Stream(ctx, "CROSSTALK_FEED_instagram")
		if err != nil {
			t.Fatal(err)
		}
		if cfg := s.CachedInfo().Config; cfg.MaxAge != age || cfg.Duplicates != feed.DefaultWindow || cfg.Subjects[0] != "crosstalk.dfeed.instagram.>" {
			t.Errorf("max age %s, duplicates %s, subjects %v; want %s, %s", cfg.MaxAge, cfg.Duplicates, cfg.Subjects, age, feed.DefaultWindow)
		}
	}
	err := feed.EnsureStreams(ctx, js, feed.DurableOptions{Apps: []string{"instagram"}, Replicas: 3, Logger: testkit.Quiet()})
	if !errors.Is(err, feed.ErrReplicationMismatch) {
		t.Errorf("3 replicas asked of a stream of 1: %v", err)
	}
	for _, o := range []feed.DurableOptions{{MaxAge: -1}, {MaxAge: time.Minute, Window: time.Hour}, {Apps: []string{"Not An App"}}} {
		if err := o.Validate(); !errors.Is(err, feed.ErrInvalidOptions) {
			t.Errorf("%+v: %v, want ErrInvalidOptions", o, err)
		}
	}
}

// A note's id tells apart what must both be kept: the same sequence of two
// streams of a partitioned log, and the visibility.changed of two
// accounts at one checkpoint; publishing all of them again stores none.
func TestDurableFeedIdsTellNotesApart(t *testing.T) {
	w := newDurableWorld(t)
	at := time.Date(2023, 12, 14, 0, 0, 0, 0, time.UTC)
	yes := true
	notes := []projector.Note{
		{Viewer: alice, Stream: 0, Notification: api.Notification{Seq: 7, N: 1, Kind: api.NoteMessageSent, At: at}},
		{Viewer: alice, Stream: 1, Notification: api.Notification{Seq: 7, N: 2, Kind: api.NoteMessageSent, At: at}},
		{Viewer: alice, Stream: 2, Notification: api.Notification{Seq: 9, N: 3, Kind: api.NoteVisibilityChanged, Account: string(bob),
			PolicyVersion: 2, ActivityStatus: &yes, At: at}},
		{Viewer: alice, Stream: 2, Notification: api.Notification{Seq: 9, N: 4, Kind: api.NoteVisibilityChanged, Account: "messenger:dan",
			PolicyVersion: 2, ActivityStatus: &yes, At: at}},
	}
	for range 2 {
		if err := w.d.Publish(notes); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.stored(t, "instagram"); len(got) != len(notes) {
		t.Errorf("%d notes stored, want %d", len(got), len(notes))
	}
}
