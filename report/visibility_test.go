package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
	"github.com/crosstalk-dev/crosstalk/replay"
	"github.com/crosstalk-dev/crosstalk/report"
)

// The seed's question, answered at three instants: what messenger:bob
// could see of instagram:alice before v2, at v2's effective time, and after
// the conversation was closed.
func testVisibilityGolden(t *testing.T, s *seed) {
	for _, c := range []struct {
		at      string
		file    string
		visible bool // historytest.Alice's status and read receipt
		closed  bool
		policy  uint64
	}{
		{"2023-12-13", "visibility_2023-12-13", true, false, 1},
		{"2023-12-14T00:00:00Z", "visibility_2023-12-14T00-00-00Z", false, false, 2},
		{"2023-12-15", "visibility_2023-12-15", false, true, 2},
	} {
		t.Run(c.at, func(t *testing.T) {
			at, err := replay.ParseInstant(c.at)
			if err != nil {
				t.Fatal(err)
			}
			v, err := report.SeenBy(s.ctx, s.log, historytest.Bob, at, report.AsOfOptions{Dir: t.TempDir(), Logger: testkit.Quiet()})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.file+".golden", text(t, v.WriteText))
			golden(t, c.file+".json.golden", indented(t, v))
			checkSeesAlice(t, v, c.visible, c.closed, c.policy)
		})
	}
}

// checkSeesAlice checks the view against the contract, whatever the golden
// files say.
func checkSeesAlice(t *testing.T, v report.View, visible, closed bool, policy uint64) {
	t.Helper()
	if v.Policy == nil || v.Policy.Version != policy {
		t.Fatalf("policy in force: %+v, want v%d", v.Policy, policy)
	}
	var cross *report.ConversationVisibility
	for i := range v.Conversations {
		if v.Conversations[i].ConversationID == seedCross {
			cross = &v.Conversations[i]
		}
	}
	if cross == nil || len(cross.Others) != 1 || cross.Others[0].Account != historytest.Alice {
		t.Fatalf("bob's view lacks his conversation with alice: %+v", v.Conversations)
	}
	if got := cross.Others[0].ActivityStatus.Visible; got != visible {
		t.Errorf("alice's activity status visible = %v, want %v", got, visible)
	}
	if _, got := cross.ReadReceipts[string(historytest.Alice)]; got != visible {
		t.Errorf("alice's read receipt visible = %v, want %v: %v", got, visible, cross.ReadReceipts)
	}
	if !visible && !strings.Contains(cross.Others[0].ActivityStatusHidden, "policy v2") {
		t.Errorf("the reason names the policy: %q", cross.Others[0].ActivityStatusHidden)
	}
	for _, it := range v.Inbox {
		if it.ConversationID == seedCross && (it.Closed != closed || (closed && it.ClosedByPolicy != 2)) {
			t.Errorf("inbox item: %+v, want closed %v", it, closed)
		}
	}
	if len(cross.Messages) != 3 {
		t.Errorf("bob sees the 3 messages of the conversation, closed or not: %+v", cross.Messages)
	}
}

// Settings narrow what the policy allows, and the view says so; an event
// after the instant is not in the views.
func TestSeenByHiddenBySettings(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	f.Append(events.AccountSubject(historytest.Alice), string(historytest.Alice), events.SettingsChanged,
		events.SettingsChangedData{Account: historytest.Alice, ShowActivityStatus: false, SendReadReceipts: true})
	at := f.Now
	f.Send(historytest.Conv1, historytest.Alice, "after the instant")

	v, err := report.SeenBy(f.Ctx, f.Log, historytest.Bob, at, report.AsOfOptions{Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if v.LastSeq != f.LastSeq()-1 || v.Events != f.LastSeq()-1 {
		t.Errorf("views as of %s: up to seq %d (%d events), want all but the last", at, v.LastSeq, v.Events)
	}
	for _, c := range v.Conversations {
		if c.ConversationID != historytest.Conv1 {
			continue
		}
		if len(c.Messages) != 2 {
			t.Errorf("a message after the instant is in the view: %+v", c.Messages)
		}
		o := c.Others[0]
		if o.ActivityStatus.Visible || o.ActivityStatusHidden != "instagram:alice's own settings (show_activity_status off)" {
			t.Errorf("alice hid her status herself: %+v", o)
		}
		if o.ReadReceiptHidden != "instagram:alice had read nothing" {
			t.Errorf("alice read nothing: %q", o.ReadReceiptHidden)
		}
	}
}

func TestSeenByBeforeAnything(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	v, err := report.SeenBy(f.Ctx, f.Log, historytest.Bob, time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), report.AsOfOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Policy != nil || len(v.Inbox) != 0 || len(v.Conversations) != 0 || v.Events != 0 {
		t.Errorf("before the first event there is nothing to see: %+v", v)
	}
}
