package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
)

// The seed's question, answered at three instants: what messenger:bob
// could see of instagram:alice before v2, at v2's effective time, and after
// the conversation was closed.
func testVisibilityGolden(t *testing.T, s *seed) {
	for _, c := range []struct {
		at      string
		file    string
		visible bool // alice's status and read receipt
		closed  bool
		policy  uint64
	}{
		{"2023-12-13", "visibility_2023-12-13", true, false, 1},
		{"2023-12-14T00:00:00Z", "visibility_2023-12-14T00-00-00Z", false, false, 2},
		{"2023-12-15", "visibility_2023-12-15", false, true, 2},
	} {
		t.Run(c.at, func(t *testing.T) {
			at, err := audit.ParseInstant(c.at)
			if err != nil {
				t.Fatal(err)
			}
			v, err := audit.SeenBy(s.ctx, s.log, bob, at, audit.AsOfOptions{Dir: t.TempDir(), Logger: quiet()})
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
func checkSeesAlice(t *testing.T, v audit.View, visible, closed bool, policy uint64) {
	t.Helper()
	if v.Policy == nil || v.Policy.Version != policy {
		t.Fatalf("policy in force: %+v, want v%d", v.Policy, policy)
	}
	var cross *audit.ConversationVisibility
	for i := range v.Conversations {
		if v.Conversations[i].ConversationID == seedCross {
			cross = &v.Conversations[i]
		}
	}
	if cross == nil || len(cross.Others) != 1 || cross.Others[0].Account != alice {
		t.Fatalf("bob's view lacks his conversation with alice: %+v", v.Conversations)
	}
	if got := cross.Others[0].ActivityStatus.Visible; got != visible {
		t.Errorf("alice's activity status visible = %v, want %v", got, visible)
	}
	if _, got := cross.ReadReceipts[string(alice)]; got != visible {
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
	f := newFixture(t)
	f.story()
	f.append(events.AccountSubject(alice), string(alice), events.SettingsChanged,
		events.SettingsChangedData{Account: alice, ShowActivityStatus: false, SendReadReceipts: true})
	at := f.now
	f.send(conv1, alice, "after the instant")

	v, err := audit.SeenBy(f.ctx, f.log, bob, at, audit.AsOfOptions{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if v.LastSeq != f.lastSeq()-1 || v.Events != f.lastSeq()-1 {
		t.Errorf("views as of %s: up to seq %d (%d events), want all but the last", at, v.LastSeq, v.Events)
	}
	for _, c := range v.Conversations {
		if c.ConversationID != conv1 {
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
	f := newFixture(t)
	f.story()
	v, err := audit.SeenBy(f.ctx, f.log, bob, time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), audit.AsOfOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Policy != nil || len(v.Inbox) != 0 || len(v.Conversations) != 0 || v.Events != 0 {
		t.Errorf("before the first event there is nothing to see: %+v", v)
	}
}

func TestParseInstant(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2023-12-14T00:00:00Z":      time.Date(2023, 12, 14, 0, 0, 0, 0, time.UTC),
		"2023-12-14T01:00:00+01:00": time.Date(2023, 12, 14, 0, 0, 0, 0, time.UTC),
		"2023-12-13":                time.Date(2023, 12, 13, 23, 59, 59, 999999999, time.UTC),
	} {
		got, err := audit.ParseInstant(in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseInstant(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2023-13-01", "2023-12-14 00:00"} {
		if _, err := audit.ParseInstant(bad); err == nil {
			t.Errorf("ParseInstant(%q) accepted", bad)
		}
	}
}
