package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/sealtest"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
	"github.com/crosstalk-dev/crosstalk/report"
)

// A timeline, read without keys, shows a sealed text or reaction as
// [sealed], never its ciphertext, and an erased one with the event that
// erased it: the account's erasure, an unsend, a retention rule.
func TestTimelineShowsSealedAndErased(t *testing.T) {
	f := historytest.NewFixture(t)
	keys := sealtest.New()
	conv, subject := historytest.Conv1, events.ConversationSubject(historytest.Conv1)
	sealed := func(a events.Account, leaf uint32, text string) string {
		s, err := keys.Seal(a, conv, leaf, events.MessageSent, "id", text)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	f.Policy(1, f.Now, true)
	f.Start(conv, historytest.Alice, historytest.Bob)
	send := func(id string, a events.Account, leaf uint32) {
		f.Append(subject, conv, events.MessageSent, events.MessageSentData{MessageID: id, Sender: a, Sealed: sealed(a, leaf, "secret")})
	}
	send("m1", historytest.Alice, 1)
	send("m2", historytest.Bob, 2)
	send("m3", historytest.Bob, 3)
	send("m4", historytest.Bob, 4)
	f.Append(subject, conv, events.MessageReacted, events.MessageReactedData{MessageID: "m4", Account: historytest.Bob, Sealed: sealed(historytest.Bob, 4, "+1")})
	f.Append(subject, conv, events.MessageUnsent, events.MessageUnsentData{MessageID: "m3", By: historytest.Bob})
	f.Append(events.AccountSubject(historytest.Alice), string(historytest.Alice), events.AccountErased,
		events.AccountErasedData{Account: historytest.Alice, By: "admin"})
	f.Append(subject, conv, events.ContentExpired, events.ContentExpiredData{Through: 2, Before: f.Now, PolicyVersion: 1})

	tl, err := report.ConversationTimeline(f.Ctx, f.Log, conv)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, e := range tl.Entries {
		if e.Type == events.MessageSent || e.Type == events.MessageReacted {
			if !strings.Contains(e.Change, "[sealed]") || strings.Contains(e.Change, "s1.") {
				t.Errorf("entry %d reads %q", e.Seq, e.Change)
			}
			if e.Erased != nil {
				reasons[e.Change] = e.Erased.Reason
			}
		}
	}
	want := map[string]string{"sent m1 [sealed]": api.ErasedAccount, "sent m2 [sealed]": api.ErasedRetention,
		"sent m3 [sealed]": api.ErasedUnsent}
	if len(reasons) != len(want) {
		t.Errorf("erased entries %v, want %v", reasons, want)
	}
	for change, reason := range want {
		if reasons[change] != reason {
			t.Errorf("%q erased for %q, want %q", change, reasons[change], reason)
		}
	}
	var out bytes.Buffer
	if err := tl.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "sent m1 [sealed] (erased: account_erased by admin at ") || strings.Contains(out.String(), "s1.") {
		t.Errorf("text:\n%s", out.String())
	}
}
