package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/seal"
	"github.com/crosstalk-dev/crosstalk/service"
)

// sweeps records the closer's "retention sweep" log lines (their expired
// count), so that a test knows a sweep ran, whatever it found.
type sweeps struct {
	mu    sync.Mutex
	count []int64
}

func (s *sweeps) Enabled(context.Context, slog.Level) bool { return true }
func (s *sweeps) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *sweeps) WithGroup(string) slog.Handler            { return s }

func (s *sweeps) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "retention sweep" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "expired" {
			s.mu.Lock()
			s.count = append(s.count, a.Value.Int64())
			s.mu.Unlock()
		}
		return true
	})
	return nil
}

// waitSweep waits until the closer has swept n times, and returns what the
// n-th expired.
func (s *sweeps) waitSweep(t *testing.T, n int) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		if len(s.count) >= n {
			defer s.mu.Unlock()
			return s.count[n-1]
		}
		s.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no retention sweep number %d", n)
	return 0
}

// ran is how many sweeps ran.
func (s *sweeps) ran() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.count)
}

// openTestRing opens a keyring with a new master key on h's JetStream.
func openTestRing(t *testing.T, h *harness) *keyring.Ring {
	t.Helper()
	path := filepath.Join(t.TempDir(), "master.key")
	if err := keyring.CreateMaster(path); err != nil {
		t.Fatal(err)
	}
	m, err := keyring.ReadMaster(path)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.Open(h.ctx, h.js, m, keyring.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ring.Close() })
	return ring
}

// sealedMessage is a message's content as the service sealed it in its
// message.sent: under its sender's scope of the conversation, bound to the
// event.
type sealedMessage struct {
	scope  keyring.Scope
	ad     []byte
	sealed string
}

// sealedMessages are the sealed contents of conv's messages, in order.
func (h *harness) sealedMessages(conv string) []sealedMessage {
	h.t.Helper()
	msgs, err := h.log.Load(h.ctx, events.ConversationSubject(conv), 0)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []sealedMessage
	for _, m := range msgs {
		e, err := events.Decode(m.Data)
		if err != nil || e.Type != events.MessageSent {
			continue
		}
		d, err := events.DataOf[events.MessageSentData](e)
		if err != nil || d.Sealed == "" {
			h.t.Fatalf("message.sent at %d not sealed (%v): %+v", m.Seq, err, d)
		}
		out = append(out, sealedMessage{scope: keyring.Scope{Account: string(d.Sender), Conversation: conv},
			ad: seal.AD(events.ConversationSubject(conv), string(e.Type), e.ID, string(d.Sender)), sealed: d.Sealed})
	}
	return out
}

func (s sealedMessage) open(h *harness, ring *keyring.Ring) error {
	_, err := ring.Open(h.ctx, s.scope, s.ad, s.sealed)
	return err
}

// expiries are the content.expired events of conv in the log.
func (h *harness) expiries(conv string) []events.ContentExpiredData {
	h.t.Helper()
	msgs, err := h.log.Load(h.ctx, events.ConversationSubject(conv), 0)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []events.ContentExpiredData
	for _, m := range msgs {
		e, err := events.Decode(m.Data)
		if err != nil || e.Type != events.ContentExpired {
			continue
		}
		d, err := events.DataOf[events.ContentExpiredData](e)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// dora is an account of alice's app: same-app messages need no link.
const dora = events.Account("instagram:dora")

// retentionPolicy is a policy of version v, effective at, keeping content
// days (0: no rule).
func retentionPolicy(v uint64, at time.Time, days int) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"version": v, "name": fmt.Sprint("retain-", days),
		"effective_at": at, "links": []any{}, "content_retention_days": days})
	return b
}

// Under a policy keeping content 30 days, the closer's sweep on day 45
// punctures the leaves of the messages sent on day 0, in every sender's
// scope (what the service sealed them with no longer opens), and not those of day 40, and appends one content.expired; the
// next sweep appends nothing. Under a policy without the rule, before it,
// sweeps do nothing.
func TestRetentionSweepErasesWhatIsDue(t *testing.T) {
	h := newHarness(t)
	ring := openTestRing(t, h)
	log := &sweeps{}
	h.restart(service.Options{Keys: ring, Logger: slog.New(log)})
	day := func(n int) time.Time { return seedStart.Add(time.Duration(n) * 24 * time.Hour) }
	h.publish(retentionPolicy(1, day(0), 0))
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{dora}}).ConversationID
	h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "day 0"})
	h.must(dora, "message.send", map[string]any{"conversation_id": conv, "text": "day 0 too"})
	h.clock.Set(day(40))
	h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "day 40"})
	sealed := h.sealedMessages(conv)
	if len(sealed) != 3 {
		t.Fatalf("%d sealed messages, want 3", len(sealed))
	}
	for i, m := range sealed {
		if err := m.open(h, ring); err != nil {
			t.Fatalf("message %d does not open before the sweep: %v", i, err)
		}
	}
	old, recent := sealed[:2], sealed[2]
	h.publish(retentionPolicy(2, day(41), 30))

	h.clock.Set(day(41).Add(-time.Hour)) // v1 in force: no rule, no sweep
	h.waitApplied(1)
	if n := log.ran(); n != 0 || len(h.expiries(conv)) != 0 {
		t.Fatalf("without a rule: %d sweeps, expiries %+v", n, h.expiries(conv))
	}
	h.clock.Set(day(45))
	if n := log.waitSweep(t, 1); n != 1 {
		t.Fatalf("the sweep on day 45 expired %d conversations, want 1", n)
	}
	for i, m := range old {
		if err := m.open(h, ring); !errors.Is(err, keyring.ErrErased) {
			t.Fatalf("day-0 message %d opens after the sweep: %v", i, err)
		}
	}
	if err := recent.open(h, ring); err != nil {
		t.Fatalf("the day-40 message no longer opens: %v", err)
	}
	want := events.ContentExpiredData{Through: 1, Before: day(15), PolicyVersion: 2}
	if got := h.expiries(conv); len(got) != 1 || got[0] != want {
		t.Fatalf("expiries %+v, want one %+v", got, want)
	}
	var page api.MessagePage
	h.mustQuery("messages", map[string]any{"viewer": alice, "conversation_id": conv}, &page)
	if len(page.Items) != 3 {
		t.Fatalf("the views list %d messages, want 3", len(page.Items))
	}
	for i, m := range page.Items {
		if erased := m.Erased != nil && m.Erased.Reason == api.ErasedRetention; erased != (i < 2) {
			t.Fatalf("message %d in the views: erased %+v", i, m.Erased)
		}
	}
	h.clock.Set(day(46))
	if n := log.waitSweep(t, 2); n != 0 || len(h.expiries(conv)) != 1 {
		t.Fatalf("the next sweep expired %d, expiries %+v", n, h.expiries(conv))
	}
}
