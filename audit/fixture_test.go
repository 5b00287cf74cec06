package audit_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/projector"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Pin the adapters to the interfaces the audit consumes.
var (
	_ audit.Log   = (*eventlog.Log)(nil)
	_ audit.Views = (*projector.Store)(nil)
)

const (
	alice = events.Account("instagram:alice")
	bob   = events.Account("messenger:bob")
	carol = events.Account("messenger:carol")
)

// fixture is an event log on a real in-process nats-server, written the way
// the service writes it: every event chained to the previous one on its
// subject.
type fixture struct {
	t    testing.TB
	ctx  context.Context
	js   jetstream.JetStream
	log  *eventlog.Log
	tips map[string]tip
	now  time.Time
}

// tip is where a subject's chain stands.
type tip struct {
	seq     uint64
	hash    string
	version uint64
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	srv := natstest.Start(t)
	js := srv.JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	l, err := eventlog.Open(ctx, js, eventlog.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ctx: ctx, js: js, log: l, tips: map[string]tip{},
		now: time.Date(2020, 10, 1, 12, 0, 0, 0, time.UTC)}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// event builds an event on subject (key is the aggregate key) chained to
// the subject's tip, without storing it.
func (f *fixture) event(subject, key string, typ events.Type, data any) events.Event {
	f.t.Helper()
	f.now = f.now.Add(time.Second)
	e, err := events.New(typ, key, f.now, events.NewID(), 1, data)
	if err != nil {
		f.t.Fatal(err)
	}
	e.ID = events.NewID()
	t := f.tips[subject]
	e.StreamVersion, e.PrevHash = t.version+1, t.hash
	return e
}

// store appends e to subject with optimistic concurrency and moves the tip.
func (f *fixture) store(subject string, e events.Event) events.Message {
	f.t.Helper()
	body, err := events.Encode(e)
	if err != nil {
		f.t.Fatal(err)
	}
	seq, _, err := f.log.Append(f.ctx, subject, f.tips[subject].seq, "", body)
	if err != nil {
		f.t.Fatal(err)
	}
	f.tips[subject] = tip{seq: seq, hash: events.Hash(body), version: f.tips[subject].version + 1}
	return events.Message{Seq: seq, Subject: subject, Data: body}
}

func (f *fixture) append(subject, key string, typ events.Type, data any) events.Message {
	f.t.Helper()
	return f.store(subject, f.event(subject, key, typ, data))
}

// raw publishes body on subject straight into the stream with jetstream,
// as a writer that bypasses crosstalk would, and makes it the subject's tip
// so that later appends chain to it.
func (f *fixture) raw(subject string, body []byte) uint64 {
	f.t.Helper()
	ack, err := f.js.Publish(f.ctx, subject, body)
	if err != nil {
		f.t.Fatal(err)
	}
	t := f.tips[subject]
	f.tips[subject] = tip{seq: ack.Sequence, hash: events.Hash(body), version: t.version + 1}
	return ack.Sequence
}

// rawEvent publishes e encoded, straight into the stream.
func (f *fixture) rawEvent(subject string, e events.Event) uint64 {
	f.t.Helper()
	body, err := events.Encode(e)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.raw(subject, body)
}

// start begins conversation id between by and others.
func (f *fixture) start(id string, by events.Account, others ...events.Account) {
	parts := append([]events.Account{by}, others...)
	cross := false
	for _, p := range parts {
		cross = cross || p.App() != by.App()
	}
	f.append(events.ConversationSubject(id), id, events.ConversationStarted, events.ConversationStartedData{
		ConversationID: id, StartedBy: by, Participants: parts, CrossApp: cross})
}

func (f *fixture) sendEvent(conv string, sender events.Account, text string) events.Event {
	return f.event(events.ConversationSubject(conv), conv, events.MessageSent,
		events.MessageSentData{MessageID: events.NewID(), Sender: sender, Text: text})
}

func (f *fixture) send(conv string, sender events.Account, text string) events.Message {
	f.t.Helper()
	return f.store(events.ConversationSubject(conv), f.sendEvent(conv, sender, text))
}

func (f *fixture) presence(a events.Account, status string) {
	f.append(events.AccountSubject(a), string(a), events.PresenceChanged, events.PresenceChangedData{Account: a, Status: status})
}

func (f *fixture) policy(version uint64, effective time.Time, allow bool) {
	link := func(from, to events.App) events.LinkData {
		return events.LinkData{From: from, To: to, StartConversation: allow, Send: allow, Call: allow,
			SeeActivityStatus: allow, SeeReadReceipts: allow}
	}
	f.append(events.PolicySubject, "policy", events.PolicyPublished, events.PolicyPublishedData{
		Version: version, Name: "test", EffectiveAt: effective,
		Links: []events.LinkData{link("instagram", "messenger"), link("messenger", "instagram")}})
}

// Conversation ids of the fixtures.
const (
	conv1 = "0192a000-0000-7000-8000-000000000001"
	conv2 = "0192a000-0000-7000-8000-000000000002"
)

// story writes a small clean history: a policy, a cross-app and a same-app
// conversation with messages, and presence.
func (f *fixture) story() {
	f.policy(1, time.Date(2020, 9, 30, 0, 0, 0, 0, time.UTC), true)
	f.start(conv1, alice, bob)
	f.start(conv2, bob, carol)
	f.send(conv1, alice, "hey Bob")
	f.send(conv1, bob, "hi Alice")
	f.presence(alice, events.StatusActive)
	f.send(conv2, carol, "lunch?")
	f.presence(alice, events.StatusIdle)
}

func (f *fixture) lastSeq() uint64 {
	f.t.Helper()
	last, err := f.log.LastSeq(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return last
}

// messages returns every message of the stream, read one by one.
func (f *fixture) messages() []events.Message {
	f.t.Helper()
	var out []events.Message
	for seq := uint64(1); seq <= f.lastSeq(); seq++ {
		m, err := f.log.Get(f.ctx, seq)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// views opens a Pebble store in a fresh directory, closed when the test ends.
func (f *fixture) views() *projector.Store {
	f.t.Helper()
	s, err := projector.Open(projector.Options{Dir: f.t.TempDir(), Logger: quiet()})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = s.Close() })
	return s
}

// project builds views from the log as the service's projector does.
func (f *fixture) project() *projector.Store {
	f.t.Helper()
	s := f.views()
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, f.log) }()
	err := s.WaitFor(f.ctx, f.lastSeq())
	cancel()
	if runErr := <-done; runErr != nil {
		f.t.Fatal(runErr)
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// verify runs Verify and fails the test on an error.
func (f *fixture) verify(views audit.Views) audit.Report {
	f.t.Helper()
	rep, err := audit.Verify(f.ctx, f.log, views)
	if err != nil {
		f.t.Fatal(err)
	}
	return rep
}

func (f *fixture) checksum(until uint64) audit.Sum {
	f.t.Helper()
	s, err := audit.Checksum(f.ctx, f.log, until)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}
