package service_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/service"
)

var (
	dec12 = time.Date(2023, 12, 12, 9, 0, 0, 0, time.UTC)
	dec15 = time.Date(2023, 12, 15, 9, 0, 0, 0, time.UTC)
)

// A policy published before its effective time is stored at once, does not
// decide until then, and takes effect after a restart that happens between.
func TestScheduledPolicySurvivesRestart(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	h.clock.Set(dec12)
	h.publishFile("v2-2023-12-cross-app-disconnect.json")
	r := h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "still v1"})
	if r.PolicyVersion != 1 {
		t.Fatalf("before its effective time v2 does not decide: policy_version %d", r.PolicyVersion)
	}
	h.restart(service.Options{})
	h.clock.Set(dec15)
	h.waitApplied(2)
	var view api.ConversationView
	h.mustQuery("conversation", map[string]any{"conversation_id": conv}, &view)
	if !view.Closed || view.ClosedByPolicy != 2 {
		t.Fatalf("after the restart v2 took effect and closed it: %+v", view)
	}
}

// startCrossApp starts n cross-app conversations under v1.
func startCrossApp(h *harness, n int) []string {
	h.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	}
	return ids
}

// closedEvents counts conversation.closed events per conversation in the log.
func (h *harness) closedEvents(ids []string) map[string]int {
	h.t.Helper()
	out := map[string]int{}
	for _, id := range ids {
		msgs, err := h.log.Load(h.ctx, events.ConversationSubject(id), 0)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, m := range msgs {
			if e, err := events.Decode(m.Data); err == nil && e.Type == events.ConversationClosed {
				out[id]++
			}
		}
	}
	return out
}

// The closer dies part-way; the next start closes exactly the rest.
func TestCloserResumesExactlyTheRest(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	const n = 600
	ids := startCrossApp(h, n)
	h.clock.Set(dec12)
	h.publishFile("v2-2023-12-cross-app-disconnect.json")
	h.restart(service.Options{CloseConcurrency: 1, CloseRun: 5})
	before, err := h.log.LastSeq(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Set(dec15)
	// Watch the log, not the views: a closing costs less than the views
	// take to show it, and the stop must come while closings remain.
	deadline := time.Now().Add(10 * time.Second)
	for last := before; last == before && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if last, err = h.log.LastSeq(h.ctx); err != nil {
			t.Fatal(err)
		}
	}
	h.stop() // as a crash would, mid-way through the closing
	first := len(h.closedEvents(ids))
	if first == 0 || first == n {
		t.Fatalf("the first run should stop part-way, closed %d of %d", first, n)
	}
	h.start(service.Options{})
	st := h.waitApplied(2)
	counts := h.closedEvents(ids)
	for _, id := range ids {
		if counts[id] != 1 {
			t.Fatalf("conversation %s closed %d times", id, counts[id])
		}
	}
	if st.Closed != n || st.Affected != n {
		t.Fatalf("status after resuming: %+v (first run closed %d)", st, first)
	}
	t.Logf("first run closed %d of %d; the restart closed the other %d", first, n, n-first)
}

// Two instances on one NATS both run the closer: each conversation is
// closed once (deterministic Nats-Msg-Id and optimistic concurrency).
func TestTwoClosersCloseEachOnce(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	ids := startCrossApp(h, 200)
	h.clock.Set(dec12)
	h.publishFile("v2-2023-12-cross-app-disconnect.json")
	second := &harness{t: t, srv: h.srv, nc: h.srv.Connect(t), clock: h.clock, ctx: h.ctx, viewsD: t.TempDir()}
	second.start(service.Options{})
	h.clock.Set(dec15)
	for _, inst := range []*harness{h, second} {
		testkit.WaitPolicyApplied(t, inst.svc.PolicyReport, 2) // this instance's own closer
	}
	for id, c := range h.closedEvents(ids) {
		if c != 1 {
			t.Fatalf("conversation %s closed %d times", id, c)
		}
	}
	if got := len(h.closedEvents(ids)); got != len(ids) {
		t.Fatalf("closed %d of %d", got, len(ids))
	}
	// Each closer loads conversations from its own views, which may not
	// have applied the other's closing yet: the append conflicts and the
	// command path catches up from the log. The chains stay whole.
	rep, err := audit.Verify(h.ctx, h.log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("audit: %d breaks, first %+v", rep.BreaksTotal, rep.Breaks[0])
	}
}

// v1 allows, v2 denies, v3 allows again: what v2 closed stays closed and
// readable; v3 only allows new conversations.
func TestClosingIsFinal(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	old := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	h.must(alice, "message.send", map[string]any{"conversation_id": old, "text": "from 2020"})
	h.clock.Set(dec12)
	h.publishFile("v2-2023-12-cross-app-disconnect.json")
	h.clock.Set(dec15)
	h.waitApplied(2)
	h.publish(json.RawMessage(`{"version":3,"name":"reunited","effective_at":"2024-01-01T00:00:00Z","links":[
	 {"from":"instagram","to":"messenger","start_conversation":true,"send":true,"call":true,"see_activity_status":true,"see_read_receipts":true},
	 {"from":"messenger","to":"instagram","start_conversation":true,"send":true,"call":true,"see_activity_status":true,"see_read_receipts":true}]}`))
	h.clock.Set(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC))
	h.waitApplied(3)
	h.refused("conversation_closed", alice, "message.send", map[string]any{"conversation_id": old, "text": "are we back?"})
	fresh := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	h.must(bob, "message.send", map[string]any{"conversation_id": fresh, "text": "new conversation under v3"})
	var m api.MessagePage
	h.mustQuery("messages", map[string]any{"conversation_id": old, "viewer": bob}, &m)
	if len(m.Items) != 1 || m.Items[0].Text != "from 2020" {
		t.Fatalf("the closed conversation's history stays readable: %+v", m.Items)
	}
	var rep api.PolicyReport
	h.mustQuery("policy", map[string]any{}, &rep)
	if rep.Current != 3 || len(rep.Versions) != 3 || rep.Versions[1].Closed != 1 || rep.Versions[2].Closed != 0 {
		t.Fatalf("policy report: %+v", rep)
	}
}

// A retried start whose conversation id the server made is answered with
// the first reply, even when the policy has since changed.
func TestRetriedStartAfterPolicyChange(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	id := "5b4f6a52-8a0e-4c3e-9d1f-2a7b6c5d4e3f"
	first := h.must(alice, "conversation.start", map[string]any{"command_id": id, "participants": []events.Account{bob}})
	h.clock.Set(dec12)
	h.publishFile("v2-2023-12-cross-app-disconnect.json")
	h.clock.Set(dec15)
	h.waitApplied(2)
	h.restart(service.Options{}) // a cold cache: the retry must find the conversation in the log
	again := h.must(alice, "conversation.start", map[string]any{"command_id": id, "participants": []events.Account{bob}})
	if !again.Duplicate || again.ConversationID != first.ConversationID || again.StreamSeq != first.StreamSeq {
		t.Fatalf("retry: first %+v, again %+v", first, again)
	}
}
