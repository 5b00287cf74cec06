package audit_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

// node is a real crosstalk service on an in-process nats-server and a
// Pebble store, driven through NATS like any producer.
type node struct {
	t     *testing.T
	ctx   context.Context
	log   *eventlog.Log
	store *projector.Store
	c     *client.Client
	clock *service.SimClock
}

func startNode(t *testing.T) *node {
	t.Helper()
	st := startStack(t)
	n := &node{t: t, ctx: st.ctx, c: client.New(st.nc), clock: seedClock(), log: st.log}
	n.store = runService(t, st, service.Options{Clock: n.clock})
	return n
}

// cmd sends a command as actor and fails the test if it is refused.
func (n *node) cmd(actor events.Account, action string, body map[string]any) api.CommandReply {
	n.t.Helper()
	body["command_id"] = uuid.NewString()
	body["actor"] = actor
	n.clock.Advance(time.Minute)
	r, err := n.c.Command(n.ctx, string(actor.App()), action, body)
	if err != nil {
		n.t.Fatalf("%s by %s: %v", action, actor, err)
	}
	return r
}

// chat starts a conversation of by with others and exchanges a message
// from each participant; each reads the last one.
func (n *node) chat(by events.Account, others ...events.Account) string {
	n.t.Helper()
	id := n.cmd(by, "conversation.start", map[string]any{"participants": others}).ConversationID
	var last string
	for _, a := range append([]events.Account{by}, others...) {
		last = n.cmd(a, "message.send", map[string]any{"conversation_id": id, "text": "hello from " + string(a)}).MessageID
	}
	n.cmd(by, "message.read", map[string]any{"conversation_id": id, "message_id": last})
	return id
}

func (n *node) publish(file string) api.PublishReply {
	n.t.Helper()
	data, err := policies.Read(file)
	if err != nil {
		n.t.Fatal(err)
	}
	r, err := n.c.PublishPolicy(n.ctx, uuid.NewString(), json.RawMessage(data))
	if err != nil {
		n.t.Fatalf("publish %s: %v", file, err)
	}
	return r
}

func (n *node) policyReport() api.PolicyReport {
	n.t.Helper()
	var rep api.PolicyReport
	if err := n.c.Query(n.ctx, "policy", map[string]any{}, &rep); err != nil {
		n.t.Fatal(err)
	}
	return rep
}

// waitApplied waits until crosstalk.query.policy reports version v applied.
func (n *node) waitApplied(v uint64) {
	n.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, p := range n.policyReport().Versions {
			if p.Version == v && p.Applied && p.InForce {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	n.t.Fatalf("policy version %d not applied within 20s: %+v", v, n.policyReport())
}

// inbox returns the conversation ids in a's inbox, as of the whole log.
func (n *node) inbox(a events.Account) []string {
	n.t.Helper()
	var ids []string
	cursor := ""
	for {
		var page api.InboxPage
		req := map[string]any{"account": a, "limit": 200, "min_seq": n.lastSeq()}
		if cursor != "" {
			req["cursor"] = cursor
		}
		if err := n.c.Query(n.ctx, "inbox", req, &page); err != nil {
			n.t.Fatal(err)
		}
		for _, it := range page.Items {
			ids = append(ids, it.ConversationID)
		}
		if cursor = page.NextCursor; cursor == "" {
			slices.Sort(ids)
			return ids
		}
	}
}

func (n *node) lastSeq() uint64 {
	n.t.Helper()
	last, err := n.log.LastSeq(n.ctx)
	if err != nil {
		n.t.Fatal(err)
	}
	return last
}

// The issue "History is provably unchanged": the December 2023 policy
// change leaves every earlier event byte for byte as it was, and its whole
// footprint is one policy event and one closing per cross-app conversation.
func TestPolicyChangeLeavesHistoryProvablyUnchanged(t *testing.T) {
	n := startNode(t)
	const dave = events.Account("instagram:dave")
	accounts := []events.Account{alice, bob, carol, dave}

	// 2020: policy v1 lets the apps talk.
	n.publish("v1-2020-cross-app.json")
	cross := map[string]bool{
		n.chat(alice, bob):  true, // instagram and messenger
		n.chat(carol, dave): true, // and the other way round
	}
	same := []string{n.chat(bob, carol), n.chat(alice, dave)} // messenger only, instagram only
	n.cmd(alice, "presence.set", map[string]any{"status": "active"})
	n.cmd(bob, "settings.set", map[string]any{"send_read_receipts": false})

	pre := n.lastSeq()
	sumPre, err := audit.Checksum(n.ctx, n.log, pre)
	if err != nil {
		t.Fatal(err)
	}
	inboxes := map[events.Account][]string{}
	for _, a := range accounts {
		if inboxes[a] = n.inbox(a); len(inboxes[a]) != 2 {
			t.Fatalf("each account takes part in two conversations; %s's inbox: %v", a, inboxes[a])
		}
	}

	// 2023-12-12: v2 is published two days before it takes effect.
	n.clock.Set(time.Date(2023, 12, 12, 9, 0, 0, 0, time.UTC))
	v2 := n.publish("v2-2023-12-cross-app-disconnect.json")
	if rep := n.policyReport(); rep.Current != 1 || v2.Version != 2 || v2.StreamSeq != pre+1 {
		t.Fatalf("before 2023-12-14 v2 is scheduled and v1 in force: %+v, reply %+v", rep, v2)
	}
	n.clock.Set(time.Date(2023, 12, 15, 9, 0, 0, 0, time.UTC))
	n.waitApplied(2)
	last := n.lastSeq()

	t.Run("the checksum before the policy is unchanged", func(t *testing.T) {
		sum, err := audit.Checksum(n.ctx, n.log, pre)
		if err != nil || sum != sumPre {
			t.Fatalf("checksum until seq %d: %+v, %v; before the policy: %+v", pre, sum, err, sumPre)
		}
	})
	t.Run("the footprint is one policy event and one closing per cross-app conversation", func(t *testing.T) {
		closed := map[string]int{}
		for seq := pre + 1; seq <= last; seq++ {
			m, err := n.log.Get(n.ctx, seq)
			if err != nil {
				t.Fatal(err)
			}
			e, err := events.Decode(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			kind, key := events.ClassifySubject(m.Subject)
			switch {
			case seq == v2.StreamSeq:
				if e.Type != events.PolicyPublished || kind != events.SubjectPolicy || e.ID != v2.EventID {
					t.Errorf("seq %d: want the policy event, got %s on %s", seq, e.Type, m.Subject)
				}
			case e.Type == events.ConversationClosed && kind == events.SubjectConversation && cross[key]:
				closed[key]++
				if e.CausationID != v2.EventID || e.PolicyVersion != 2 {
					t.Errorf("seq %d: closing of %s caused by %q under v%d, want the policy event %s under v2",
						seq, key, e.CausationID, e.PolicyVersion, v2.EventID)
				}
			default:
				t.Errorf("seq %d: the policy change appended %s to %s, which is not a cross-app conversation",
					seq, e.Type, m.Subject)
			}
		}
		if len(closed) != len(cross) || last-pre != uint64(1+len(cross)) {
			t.Fatalf("closings %v for cross-app conversations %v; %d new events", closed, slices.Collect(maps.Keys(cross)), last-pre)
		}
		for id, times := range closed {
			if times != 1 {
				t.Errorf("%s closed %d times", id, times)
			}
		}
	})
	t.Run("same-app conversations and accounts got nothing", func(t *testing.T) {
		subjects := []string{}
		for _, id := range same {
			subjects = append(subjects, events.ConversationSubject(id))
		}
		for _, a := range accounts {
			subjects = append(subjects, events.AccountSubject(a))
		}
		for _, subject := range subjects {
			msgs, err := n.log.Load(n.ctx, subject, pre)
			if err != nil || len(msgs) != 0 {
				t.Errorf("%s after seq %d: %d events, %v", subject, pre, len(msgs), err)
			}
		}
	})
	t.Run("every inbox lists the same conversations", func(t *testing.T) {
		for _, a := range accounts {
			if got := n.inbox(a); !slices.Equal(got, inboxes[a]) {
				t.Errorf("inbox of %s: %v, before the policy %v", a, got, inboxes[a])
			}
		}
	})
	t.Run("verify finds no break in JetStream or the views", func(t *testing.T) {
		if err := n.store.WaitFor(n.ctx, last); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.Verify(n.ctx, n.log, n.store)
		if err != nil || !rep.OK() || rep.Events != last || rep.ViewsChecked != last {
			t.Fatalf("verify: %+v, %v", rep, err)
		}
	})
}
