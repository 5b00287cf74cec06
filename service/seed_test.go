package service_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
)

const (
	alice = seed.Alice
	bob   = seed.Bob
	carol = seed.Carol
	dave  = events.Account("instagram:dave")
)

// playBefore runs the 2020 half of the seed story (internal/seed): v1, a
// cross-app and a same-app conversation, messages, reads and presence.
func playBefore(h *harness) *seed.Story {
	h.t.Helper()
	s := h.story()
	h.play(s, s.Connect, s.Chat)
	return s
}

// story is the seed story on this harness. Its commands tick the clock a
// second each, as h.cmd does, so that orders by time (an inbox, newest
// first) are strict.
func (h *harness) story() *seed.Story {
	return seed.New(seed.Config{Client: h.c, Clock: h.clock, Log: h.log, Out: testLog{h.t}, Tick: time.Second})
}

// play runs acts of s in order, fails the test on the first failed check,
// and records what they wrote, for min_seq.
func (h *harness) play(s *seed.Story, acts ...func(context.Context) error) {
	h.t.Helper()
	for _, act := range acts {
		ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
		err := act(ctx)
		cancel()
		if err != nil {
			h.t.Fatal(err)
		}
	}
	h.saw(s.Seq())
}

// testLog shows the story's steps in the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestSeedStoryBeforeTheCutoff(t *testing.T) {
	h := newHarness(t)
	s := playBefore(h)

	var conv api.ConversationView
	h.mustQuery("conversation", map[string]any{"conversation_id": s.Cross}, &conv)
	if !conv.CrossApp || conv.Closed || len(conv.Participants) != 2 || conv.Version != 5 {
		t.Fatalf("cross-app conversation view: %+v", conv)
	}
	var p api.PresenceView
	h.mustQuery("presence", map[string]any{"viewer": bob, "account": alice}, &p)
	if !p.Visible || p.Status != "active" {
		t.Fatalf("under v1 bob sees alice's status: %+v", p)
	}
	var m api.MessagePage
	h.mustQuery("messages", map[string]any{"conversation_id": s.Cross, "viewer": bob}, &m)
	if len(m.Items) != 2 || m.Items[0].Text != "hey Bob, it's Alice on Instagram" || m.ReadReceipts[string(alice)] != s.M2 || m.ReadReceipts[string(bob)] != s.M1 {
		t.Fatalf("under v1 bob sees both messages and both read receipts: %+v", m)
	}
	var inbox api.InboxPage
	h.mustQuery("inbox", map[string]any{"account": bob}, &inbox)
	if len(inbox.Items) != 2 || inbox.Items[0].ConversationID != s.Same {
		t.Fatalf("bob's inbox, newest first: %+v", inbox.Items)
	}
}

func TestSeedStoryPolicyV2(t *testing.T) {
	h := newHarness(t)
	s := playBefore(h)

	h.play(s, s.Announce)
	var rep api.PolicyReport
	h.mustQuery("policy", map[string]any{}, &rep)
	if rep.Current != 1 || len(rep.Versions) != 2 || rep.Versions[1].Version != 2 || rep.Versions[1].Effective {
		t.Fatalf("before 2023-12-14 v2 is scheduled and v1 decides: %+v", rep)
	}
	pre := h.lastSeq()
	if s.Before.UntilSeq != pre {
		t.Fatalf("the story's checksum before the cutoff covers seq %d, the stream ends at %d", s.Before.UntilSeq, pre)
	}
	before := h.history(pre)

	h.play(s, s.Disconnect)
	st := h.waitApplied(2)
	if st.Closed != 1 || !st.InForce {
		t.Fatalf("v2 closes exactly the one cross-app conversation: %+v", st)
	}
	h.saw(h.lastSeq())
	h.play(s, s.Afterwards)

	t.Run("closed by policy, read-only", func(t *testing.T) {
		var conv api.ConversationView
		h.mustQuery("conversation", map[string]any{"conversation_id": s.Cross}, &conv)
		if !conv.Closed || conv.ClosedByPolicy != 2 {
			t.Fatalf("conversation view after v2: %+v", conv)
		}
		e := h.refused("conversation_closed", alice, "message.send", map[string]any{"conversation_id": s.Cross, "text": "hello?"})
		if e.Status != "403" || e.PolicyVersion != 2 {
			t.Fatalf("error reply: %+v", e)
		}
		h.refused("conversation_closed", alice, "message.edit", map[string]any{"conversation_id": s.Cross, "message_id": s.M1, "text": "x"})
		h.refused("conversation_closed", alice, "message.unsend", map[string]any{"conversation_id": s.Cross, "message_id": s.M1})
		h.refused("conversation_closed", bob, "message.react", map[string]any{"conversation_id": s.Cross, "message_id": s.M1, "reaction": "👍"})
		h.refused("conversation_closed", bob, "call.start", map[string]any{"conversation_id": s.Cross, "media": "audio"})
		h.must(bob, "message.send", map[string]any{"conversation_id": s.Same, "text": "pinging carol"})
		m3 := h.must(carol, "message.send", map[string]any{"conversation_id": s.Same, "text": "pong"}).MessageID
		h.must(bob, "message.read", map[string]any{"conversation_id": s.Same, "message_id": m3})
	})
	t.Run("no new cross-app conversations", func(t *testing.T) {
		h.refused("cross_app_not_allowed", alice, "conversation.start", map[string]any{"participants": []events.Account{bob}})
		h.refused("cross_app_not_allowed", bob, "conversation.start", map[string]any{"participants": []events.Account{alice, carol}})
		h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{dave}})
	})
	t.Run("history still listed, nothing migrated", func(t *testing.T) {
		var m api.MessagePage
		h.mustQuery("messages", map[string]any{"conversation_id": s.Cross, "viewer": alice}, &m)
		if len(m.Items) != 3 {
			t.Fatalf("the closed conversation lists its 3 messages: %+v", m.Items)
		}
		var inbox api.InboxPage
		h.mustQuery("inbox", map[string]any{"account": bob}, &inbox)
		if len(inbox.Items) != 2 {
			t.Fatalf("bob's inbox keeps both conversations, no copies: %+v", inbox.Items)
		}
		for _, it := range inbox.Items {
			if it.ConversationID == s.Cross && (!it.Closed || it.ClosedByPolicy != 2) {
				t.Fatalf("inbox shows the cross-app conversation closed by v2: %+v", it)
			}
		}
	})
	t.Run("messenger loses instagram activity and receipts", func(t *testing.T) {
		var p api.PresenceView
		h.mustQuery("presence", map[string]any{"viewer": bob, "account": alice}, &p)
		if p.Visible || p.Status != "" {
			t.Fatalf("after v2 bob must not see alice's status: %+v", p)
		}
		var m api.MessagePage
		h.mustQuery("messages", map[string]any{"conversation_id": s.Cross, "viewer": bob}, &m)
		if _, seen := m.ReadReceipts[string(alice)]; seen {
			t.Fatalf("after v2 bob must not see alice's read receipt: %+v", m.ReadReceipts)
		}
		h.mustQuery("presence", map[string]any{"viewer": carol, "account": bob}, &p)
		if !p.Visible {
			t.Fatalf("same-app presence stays visible: %+v", p)
		}
	})
	t.Run("history byte-identical", func(t *testing.T) {
		after := h.history(pre)
		for i := range before {
			if !bytes.Equal(before[i], after[i]) {
				t.Fatalf("seq %d changed", i+1)
			}
		}
		h.checkPebbleHistory()
		h.checkOnlyClosedAdded(pre, s.Cross)
		if err := s.ProveHistory(h.ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// history returns the stored bytes of seqs 1..upTo.
func (h *harness) history(upTo uint64) [][]byte {
	h.t.Helper()
	out := make([][]byte, 0, upTo)
	for seq := uint64(1); seq <= upTo; seq++ {
		m, err := h.log.Get(h.ctx, seq)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, m.Data)
	}
	return out
}

// checkPebbleHistory checks every hist/ value against its JetStream message.
func (h *harness) checkPebbleHistory() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	last := h.lastSeq()
	if err := h.store.WaitFor(ctx, last); err != nil {
		h.t.Fatal(err)
	}
	n := uint64(0)
	err := h.store.History(func(subject string, seq uint64, data []byte) error {
		n++
		m, err := h.log.Get(h.ctx, seq)
		if err != nil {
			return err
		}
		if m.Subject != subject || !bytes.Equal(m.Data, data) {
			h.t.Errorf("hist %s/%d differs from JetStream", subject, seq)
		}
		return nil
	})
	if err != nil || n != last {
		h.t.Fatalf("pebble history: %d entries for %d stream messages, err %v", n, last, err)
	}
}

// checkOnlyClosedAdded checks that between pre and the closing the policy
// added exactly one conversation.closed, on conv, caused by the policy event.
func (h *harness) checkOnlyClosedAdded(pre uint64, conv string) {
	h.t.Helper()
	closed := 0
	for seq := pre + 1; seq <= h.lastSeq(); seq++ {
		m, err := h.log.Get(h.ctx, seq)
		if err != nil {
			h.t.Fatal(err)
		}
		e, err := events.Decode(m.Data)
		if err != nil {
			h.t.Fatal(err)
		}
		if e.Type == events.ConversationClosed {
			closed++
			if e.Subject != conv || e.PolicyVersion != 2 {
				h.t.Fatalf("unexpected closing: %+v", e)
			}
		}
	}
	if closed != 1 {
		h.t.Fatalf("want exactly one conversation.closed, got %d", closed)
	}
}
