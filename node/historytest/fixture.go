// Package historytest writes crosstalk histories for the tests of the
// packages that read them (audit, replay, report): event by event on a
// real in-process nats-server (Fixture), or by a real node, started with
// node.Start and driven through NATS (Node).
//
// It is a whole-stack fixture and imports the stack; the generic helpers
// it builds on are in internal/testkit, the nats-server in
// internal/natstest.
package historytest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// The accounts of the fixtures' stories.
const (
	Alice = events.Account("instagram:alice")
	Bob   = events.Account("messenger:bob")
	Carol = events.Account("messenger:carol")
)

// Fixture is an event log on a real in-process nats-server, written the way
// the service writes it: every event chained to the previous one on its
// subject.
type Fixture struct {
	T   testing.TB
	Ctx context.Context
	JS  jetstream.JetStream
	Log *eventlog.Log
	// Now is the time of the last event built; each event is a second
	// after the previous one.
	Now  time.Time
	tips map[string]tip
}

// tip is where a subject's chain stands.
type tip struct {
	seq     uint64
	hash    string
	version uint64
}

// NewFixture starts a nats-server for the test and opens an empty log on it.
func NewFixture(t testing.TB) *Fixture {
	t.Helper()
	return NewSignedFixture(t, nil)
}

// NewSignedFixture is NewFixture with a log that signs every append with
// signer, as the service's does (nil: unsigned).
func NewSignedFixture(t testing.TB, signer *events.Signer) *Fixture {
	t.Helper()
	srv := natstest.Start(t)
	js := srv.JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	l, err := eventlog.Open(ctx, js, eventlog.Options{Logger: testkit.Quiet(), Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	return &Fixture{T: t, Ctx: ctx, JS: js, Log: l, tips: map[string]tip{},
		Now: time.Date(2020, 10, 1, 12, 0, 0, 0, time.UTC)}
}

// Event builds an event on subject (key is the aggregate key) chained to
// the subject's tip, without storing it.
func (f *Fixture) Event(subject, key string, typ events.Type, data any) events.Event {
	f.T.Helper()
	f.Now = f.Now.Add(time.Second)
	e, err := events.New(typ, key, f.Now, events.NewID(), 1, data)
	if err != nil {
		f.T.Fatal(err)
	}
	e.ID = events.NewID()
	t := f.tips[subject]
	e.StreamVersion, e.PrevHash = t.version+1, t.hash
	return e
}

// Store appends e to subject with optimistic concurrency and moves the tip.
func (f *Fixture) Store(subject string, e events.Event) events.Message {
	f.T.Helper()
	body := testkit.Encode(f.T, e)
	seq, _, err := f.Log.Append(f.Ctx, subject, f.tips[subject].seq, "", body)
	if err != nil {
		f.T.Fatal(err)
	}
	f.tips[subject] = tip{seq: seq, hash: events.Hash(body), version: f.tips[subject].version + 1}
	return events.Message{Seq: seq, Subject: subject, Data: body}
}

// Append builds an event with Event and stores it with Store.
func (f *Fixture) Append(subject, key string, typ events.Type, data any) events.Message {
	f.T.Helper()
	return f.Store(subject, f.Event(subject, key, typ, data))
}

// Raw publishes body on subject straight into the stream with jetstream,
// as a writer that bypasses crosstalk would, and makes it the subject's tip
// so that later appends chain to it.
func (f *Fixture) Raw(subject string, body []byte) uint64 {
	f.T.Helper()
	return f.RawWithHeader(subject, body, nil)
}

// RawWithHeader is Raw with NATS headers, such as a signature header.
func (f *Fixture) RawWithHeader(subject string, body []byte, header nats.Header) uint64 {
	f.T.Helper()
	ack, err := f.JS.PublishMsg(f.Ctx, &nats.Msg{Subject: subject, Data: body, Header: header})
	if err != nil {
		f.T.Fatal(err)
	}
	t := f.tips[subject]
	f.tips[subject] = tip{seq: ack.Sequence, hash: events.Hash(body), version: t.version + 1}
	return ack.Sequence
}

// RawEvent publishes e encoded, straight into the stream.
func (f *Fixture) RawEvent(subject string, e events.Event) uint64 {
	f.T.Helper()
	return f.Raw(subject, testkit.Encode(f.T, e))
}

// Start begins conversation id between by and others.
func (f *Fixture) Start(id string, by events.Account, others ...events.Account) {
	f.Append(events.ConversationSubject(id), id, events.ConversationStarted, testkit.Started(id, by, others...))
}

// SendEvent builds, without storing it, a message.sent of sender in conv.
func (f *Fixture) SendEvent(conv string, sender events.Account, text string) events.Event {
	return f.Event(events.ConversationSubject(conv), conv, events.MessageSent,
		events.MessageSentData{MessageID: events.NewID(), Sender: sender, Text: text})
}

// Send stores a message.sent of sender in conv.
func (f *Fixture) Send(conv string, sender events.Account, text string) events.Message {
	f.T.Helper()
	return f.Store(events.ConversationSubject(conv), f.SendEvent(conv, sender, text))
}

// Presence stores a presence.changed of a.
func (f *Fixture) Presence(a events.Account, status string) {
	f.Append(events.AccountSubject(a), string(a), events.PresenceChanged, events.PresenceChangedData{Account: a, Status: status})
}

// Policy publishes a policy version that allows, or denies, everything
// between instagram and messenger.
func (f *Fixture) Policy(version uint64, effective time.Time, allow bool) {
	f.Append(events.PolicySubject, "policy", events.PolicyPublished, testkit.CrossAppPolicy(version, "test", effective, allow))
}

// Conversation ids of the fixtures.
const (
	Conv1 = "0192a000-0000-7000-8000-000000000001"
	Conv2 = "0192a000-0000-7000-8000-000000000002"
)

// Story writes a small clean history: a policy, a cross-app and a same-app
// conversation with messages, and presence.
func (f *Fixture) Story() {
	f.Policy(1, time.Date(2020, 9, 30, 0, 0, 0, 0, time.UTC), true)
	f.Start(Conv1, Alice, Bob)
	f.Start(Conv2, Bob, Carol)
	f.Send(Conv1, Alice, "hey Bob")
	f.Send(Conv1, Bob, "hi Alice")
	f.Presence(Alice, events.StatusActive)
	f.Send(Conv2, Carol, "lunch?")
	f.Presence(Alice, events.StatusIdle)
}

// LastSeq is the stream's last sequence.
func (f *Fixture) LastSeq() uint64 {
	f.T.Helper()
	last, err := f.Log.LastSeq(f.Ctx)
	if err != nil {
		f.T.Fatal(err)
	}
	return last
}

// Messages returns every message of the stream, read one by one.
func (f *Fixture) Messages() []events.Message {
	f.T.Helper()
	var out []events.Message
	for seq := uint64(1); seq <= f.LastSeq(); seq++ {
		m, err := f.Log.Get(f.Ctx, seq)
		if err != nil {
			f.T.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// Views opens a Pebble store in a fresh directory, closed when the test ends.
func (f *Fixture) Views() *projector.Store {
	f.T.Helper()
	s, err := projector.Open(projector.Options{Dir: f.T.TempDir(), Logger: testkit.Quiet()})
	if err != nil {
		f.T.Fatal(err)
	}
	f.T.Cleanup(func() { _ = s.Close() })
	return s
}

// Project builds views from the log as the service's projector does.
func (f *Fixture) Project() *projector.Store {
	f.T.Helper()
	s := f.Views()
	ctx, cancel := context.WithCancel(f.Ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, f.Log) }()
	err := s.WaitFor(f.Ctx, f.LastSeq())
	cancel()
	if runErr := <-done; runErr != nil {
		f.T.Fatal(runErr)
	}
	if err != nil {
		f.T.Fatal(err)
	}
	return s
}

// Verify runs audit.Verify and fails the test on an error.
func (f *Fixture) Verify(views audit.Views) audit.Report {
	f.T.Helper()
	rep, err := audit.Verify(f.Ctx, f.Log, views)
	if err != nil {
		f.T.Fatal(err)
	}
	return rep
}

// VerifyWith runs audit.VerifyWith and fails the test on an error.
func (f *Fixture) VerifyWith(o audit.VerifyOptions) audit.Report {
	f.T.Helper()
	rep, err := audit.VerifyWith(f.Ctx, f.Log, o)
	if err != nil {
		f.T.Fatal(err)
	}
	return rep
}

// Checksum runs audit.Checksum and fails the test on an error.
func (f *Fixture) Checksum(until uint64) audit.Sum {
	f.T.Helper()
	s, err := audit.Checksum(f.Ctx, f.Log, until)
	if err != nil {
		f.T.Fatal(err)
	}
	return s
}

// TipHash is the sha256 hex of the last body stored on subject: what the
// next event on it chains to.
func (f *Fixture) TipHash(subject string) string { return f.tips[subject].hash }
