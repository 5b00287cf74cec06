package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
	"github.com/crosstalk-dev/crosstalk/report"
)

// Pin the audit stream to the interface the policy report consumes.
var _ report.Rejections = (*eventlog.Rejections)(nil)

func testPolicyGolden(t *testing.T, s *seed) {
	rep, err := report.Policy(s.ctx, s.log, s.rejections, 2)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "policy_v2.golden", text(t, rep.WriteText))
	golden(t, "policy_v2.json.golden", indented(t, rep))

	if len(rep.Closed) != 1 || rep.Closed[0].ConversationID != seedCross {
		t.Errorf("v2 closed the one cross-app conversation: %+v", rep.Closed)
	}
	if f := rep.FirstDecided; f == nil || f.Type != events.ConversationClosed || !f.Time.After(rep.Policy.EffectiveAt) {
		t.Errorf("the first event decided under v2 is the closing, after its effective time: %+v", f)
	}
	codes := []string{}
	for _, r := range rep.Rejected {
		codes = append(codes, r.Code)
	}
	if strings.Join(codes, " ") != "conversation_closed cross_app_not_allowed" {
		t.Errorf("refused under v2: %v", codes)
	}

	v1, err := report.Policy(s.ctx, s.log, s.rejections, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(v1.Closed) != 0 || len(v1.Rejected) != 0 || v1.FirstDecided == nil {
		t.Errorf("v1 closed and refused nothing: %+v", v1)
	}
}

func TestReportPolicyUnpublished(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	_, err := report.Policy(f.Ctx, f.Log, nil, 7)
	if err == nil || !strings.Contains(err.Error(), "policy version 7 was never published") {
		t.Fatalf("ReportPolicy of an unpublished version: %v", err)
	}
}

// Without the audit stream the report still says what the history holds,
// and that it cannot say what was refused. A closing for opt-out is not a
// closing by the policy.
func TestReportPolicyWithoutRejections(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	f.Policy(2, time.Date(2020, 10, 2, 0, 0, 0, 0, time.UTC), false)
	f.Append(events.ConversationSubject(historytest.Conv1), historytest.Conv1, events.ConversationClosed,
		events.ConversationClosedData{Reason: events.ClosedByOptOut, PolicyVersion: 2})
	rep, err := report.Policy(f.Ctx, f.Log, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Closed) != 0 || rep.RejectionsNote == "" || rep.Policy.Version != 2 {
		t.Errorf("report: %+v", rep)
	}
	out := string(text(t, rep.WriteText))
	if !strings.Contains(out, "commands refused under it: unknown") || !strings.Contains(out, "conversations it closed: 0") {
		t.Errorf("text report:\n%s", out)
	}
}
