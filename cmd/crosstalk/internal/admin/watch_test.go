package admin

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
)

func TestPolicyStateColumn(t *testing.T) {
	at := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		v    api.PolicyStatus
		want string
	}{
		{api.PolicyStatus{EffectiveAt: at}, "scheduled for 2099-01-01T00:00:00Z"},
		{api.PolicyStatus{EffectiveAt: at, Effective: true, InForce: true}, "in force"},
		{api.PolicyStatus{EffectiveAt: at, Effective: true}, "superseded"},
	} {
		if got := policyState(c.v); got != c.want {
			t.Errorf("policyState(%+v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// On a non-terminal the progress is one line per change of closed/affected;
// the affected total may grow while the closer scans.
func TestProgressLines(t *testing.T) {
	var out bytes.Buffer
	p := newPolicyProgress(&out)
	if p.terminal {
		t.Fatal("a bytes.Buffer is not a terminal")
	}
	for _, s := range [][2]int{{0, 0}, {0, 3}, {0, 3}, {2, 5}} {
		p.show(closingReport(s[0], s[1], false))
	}
	p.done(closingReport(5, 5, true))
	want := "policy v2: closed 0/0\npolicy v2: closed 0/3\npolicy v2: closed 2/5\npolicy v2: closed 5/5\n"
	if out.String() != want {
		t.Errorf("progress lines:\n%s\nwant:\n%s", out.String(), want)
	}
}

// On a terminal the progress is a bar whose max follows the affected total.
func TestProgressBar(t *testing.T) {
	var out bytes.Buffer
	p := &policyProgress{w: &out, terminal: true}
	p.show(closingReport(0, 0, false))
	if out.Len() != 0 {
		t.Errorf("no bar before the closer found anything, got %q", out.String())
	}
	p.show(closingReport(1, 3, false))
	p.show(closingReport(2, 8, false))
	p.done(closingReport(8, 8, true))
	if s := out.String(); !strings.Contains(s, "policy v2: closing") || !strings.Contains(s, "8/8") {
		t.Errorf("bar output lacks the description or the final count:\n%q", s)
	}
	if p.bar != nil {
		t.Error("done must end the bar")
	}
}

func closingReport(closed, affected int, applied bool) api.PolicyReport {
	return api.PolicyReport{Current: 2, Versions: []api.PolicyStatus{
		{Version: 1, Effective: true, Applied: true},
		{Version: 2, Effective: true, InForce: true, Closed: closed, Affected: affected, Applied: applied},
	}}
}
