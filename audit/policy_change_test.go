package audit_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
)

// The issue "History is provably unchanged": the December 2023 policy
// change leaves every earlier event byte for byte as it was, and its whole
// footprint is one policy event and one closing per cross-app conversation.
func TestPolicyChangeLeavesHistoryProvablyUnchanged(t *testing.T) {
	n := historytest.StartNode(t)
	const dave = events.Account("instagram:dave")
	accounts := []events.Account{historytest.Alice, historytest.Bob, historytest.Carol, dave}

	// 2020: policy v1 lets the apps talk.
	n.Publish("v1-2020-cross-app.json")
	cross := map[string]bool{
		n.Chat(historytest.Alice, historytest.Bob): true, // instagram and messenger
		n.Chat(historytest.Carol, dave):            true, // and the other way round
	}
	same := []string{n.Chat(historytest.Bob, historytest.Carol), n.Chat(historytest.Alice, dave)} // messenger only, instagram only
	n.Cmd(historytest.Alice, "presence.set", map[string]any{"status": "active"})
	n.Cmd(historytest.Bob, "settings.set", map[string]any{"send_read_receipts": false})

	pre := n.LastSeq()
	sumPre, err := audit.Checksum(n.Ctx, n.Log, pre)
	if err != nil {
		t.Fatal(err)
	}
	inboxes := map[events.Account][]string{}
	for _, a := range accounts {
		if inboxes[a] = n.Inbox(a); len(inboxes[a]) != 2 {
			t.Fatalf("each account takes part in two conversations; %s's inbox: %v", a, inboxes[a])
		}
	}

	// 2023-12-12: v2 is published two days before it takes effect.
	n.Clock.Set(time.Date(2023, 12, 12, 9, 0, 0, 0, time.UTC))
	v2 := n.Publish("v2-2023-12-cross-app-disconnect.json")
	if rep := n.PolicyReport(); rep.Current != 1 || v2.Version != 2 || v2.StreamSeq != pre+1 {
		t.Fatalf("before 2023-12-14 v2 is scheduled and v1 in force: %+v, reply %+v", rep, v2)
	}
	n.Clock.Set(time.Date(2023, 12, 15, 9, 0, 0, 0, time.UTC))
	n.WaitPolicyApplied(2)
	last := n.LastSeq()

	t.Run("the checksum before the policy is unchanged", func(t *testing.T) {
		sum, err := audit.Checksum(n.Ctx, n.Log, pre)
		if err != nil || sum != sumPre {
			t.Fatalf("checksum until seq %d: %+v, %v; before the policy: %+v", pre, sum, err, sumPre)
		}
	})
	t.Run("the footprint is one policy event and one closing per cross-app conversation", func(t *testing.T) {
		closed := map[string]int{}
		for seq := pre + 1; seq <= last; seq++ {
			m, err := n.Log.Get(n.Ctx, seq)
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
			msgs, err := n.Log.Load(n.Ctx, subject, pre)
			if err != nil || len(msgs) != 0 {
				t.Errorf("%s after seq %d: %d events, %v", subject, pre, len(msgs), err)
			}
		}
	})
	t.Run("every inbox lists the same conversations", func(t *testing.T) {
		for _, a := range accounts {
			if got := n.Inbox(a); !slices.Equal(got, inboxes[a]) {
				t.Errorf("inbox of %s: %v, before the policy %v", a, got, inboxes[a])
			}
		}
	})
	t.Run("verify finds no break in JetStream or the views", func(t *testing.T) {
		if err := n.Store.WaitFor(n.Ctx, last); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.Verify(n.Ctx, n.Log, n.Store)
		if err != nil || !rep.OK() || rep.Events != last || rep.ViewsChecked != last {
			t.Fatalf("verify: %+v, %v", rep, err)
		}
	})
}
