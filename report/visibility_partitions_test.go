package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
	"github.com/crosstalk-dev/crosstalk/report"
)

// Issue 23, a partitioned log: what a viewer could see at an instant is
// built from every stream of a log of 4 partitions (the policy in
// CROSSTALK_POLICY, the conversation in its partition), and the text says
// so rather than naming one stream's sequence.
func TestSeenByOnAPartitionedLog(t *testing.T) {
	n := historytest.StartPartitionedNode(t, 4)
	n.Publish("v1-2020-cross-app.json")
	n.WaitPolicyApplied(1)
	conv := n.Chat(historytest.Alice, historytest.Bob)
	v, err := report.SeenBy(n.Ctx, n.Log, historytest.Bob, n.Clock.Now().Add(time.Hour), report.AsOfOptions{Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if v.Policy == nil || v.Policy.Version != 1 || len(v.Inbox) != 1 || v.Inbox[0].ConversationID != conv {
		t.Fatalf("bob as of now on 4 partitions: policy %+v, inbox %+v; want v1 and conversation %s", v.Policy, v.Inbox, conv)
	}
	var text strings.Builder
	if err := v.WriteText(&text); err != nil || !strings.Contains(text.String(), "events with time <= at, of every stream\n") {
		t.Errorf("the view's text on 4 partitions (%v):\n%s", err, text.String())
	}
}
