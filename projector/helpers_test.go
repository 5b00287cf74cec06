package projector

import (
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Accounts and times of the seed story.
const (
	alice = events.Account("instagram:alice")
	carol = events.Account("instagram:carol")
	bob   = events.Account("messenger:bob")
)

var (
	v1Effective = time.Date(2020, 9, 30, 0, 0, 0, 0, time.UTC)
	v2Effective = time.Date(2023, 12, 14, 0, 0, 0, 0, time.UTC)
	beforeV2    = time.Date(2023, 12, 13, 12, 0, 0, 0, time.UTC)
	afterV2     = time.Date(2023, 12, 15, 12, 0, 0, 0, time.UTC)
)

// feed builds log messages the way the service would append them: one
// stream sequence for the whole log, a clock that ticks a second per event.
type feed struct {
	t       testing.TB
	seq     uint64
	now     time.Time
	pending []events.Message
}

func newFeed(t testing.TB) *feed {
	return &feed{t: t, now: time.Date(2023, 12, 12, 9, 0, 0, 0, time.UTC)}
}

// event appends one event on a stream subject; key is the aggregate's key
// (conversation id, account or "policy").
func (f *feed) event(subject, key string, typ events.Type, data any) events.Message {
	f.t.Helper()
	f.now = f.now.Add(time.Second)
	e, err := events.New(typ, key, f.now, events.NewID(), 0, data)
	if err != nil {
		f.t.Fatal(err)
	}
	e.ID = events.NewID()
	b := testkit.Encode(f.t, e)
	f.seq++
	m := events.Message{Seq: f.seq, Subject: subject, Data: b}
	f.pending = append(f.pending, m)
	return m
}

// take returns the messages built since the last take.
func (f *feed) take() []events.Message {
	out := f.pending
	f.pending = nil
	return out
}

func (f *feed) conv(id string, typ events.Type, data any) events.Message {
	return f.event(events.ConversationSubject(id), id, typ, data)
}

func (f *feed) start(id string, by events.Account, others ...events.Account) {
	f.conv(id, events.ConversationStarted, testkit.Started(id, by, others...))
}

func (f *feed) send(conv, msgID string, sender events.Account, text string) events.Message {
	return f.conv(conv, events.MessageSent, events.MessageSentData{MessageID: msgID, Sender: sender, Text: text})
}

func (f *feed) edit(conv, msgID string, by events.Account, text string) {
	f.conv(conv, events.MessageEdited, events.MessageEditedData{MessageID: msgID, Editor: by, Text: text})
}

func (f *feed) unsend(conv, msgID string, by events.Account) {
	f.conv(conv, events.MessageUnsent, events.MessageUnsentData{MessageID: msgID, By: by})
}

func (f *feed) react(conv, msgID string, by events.Account, reaction string) {
	f.conv(conv, events.MessageReacted, events.MessageReactedData{MessageID: msgID, Account: by, Reaction: reaction})
}

func (f *feed) read(conv, msgID string, by events.Account) {
	f.conv(conv, events.MessageRead, events.MessageReadData{MessageID: msgID, Account: by})
}

func (f *feed) closeByPolicy(conv string, version uint64) {
	f.conv(conv, events.ConversationClosed, events.ConversationClosedData{Reason: events.ClosedByPolicy, PolicyVersion: version})
}

func (f *feed) presence(a events.Account, status string) {
	f.event(events.AccountSubject(a), string(a), events.PresenceChanged, events.PresenceChangedData{Account: a, Status: status})
}

func (f *feed) settings(a events.Account, show, receipts bool) {
	f.event(events.AccountSubject(a), string(a), events.SettingsChanged,
		events.SettingsChangedData{Account: a, ShowActivityStatus: show, SendReadReceipts: receipts})
}

// policy publishes a policy whose links between instagram and messenger,
// both directions, allow everything or nothing.
func (f *feed) policy(version uint64, effective time.Time, allow bool) {
	f.event(events.PolicySubject, "policy", events.PolicyPublished,
		testkit.CrossAppPolicy(version, "policy-"+string(rune('0'+version)), effective, allow))
}

// seedPolicies publishes v1 (cross-app allowed since 2020) and v2 (denied
// from 2023-12-14).
func (f *feed) seedPolicies() {
	f.policy(1, v1Effective, true)
	f.policy(2, v2Effective, false)
}

// openStore opens a store in a fresh directory, closed when the test ends.
func openStore(t testing.TB) *Store {
	t.Helper()
	return openStoreIn(t, t.TempDir(), testkit.Quiet())
}

func openStoreIn(t testing.TB, dir string, log *slog.Logger) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustApply(t testing.TB, s *Store, msgs []events.Message) {
	t.Helper()
	if err := s.Apply(msgs); err != nil {
		t.Fatal(err)
	}
}
