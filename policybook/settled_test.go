package policybook_test

import (
	"testing"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/policybook"
)

// A report is settled when every version is effective and applied.
func TestPolicySettled(t *testing.T) {
	superseded := api.PolicyStatus{Version: 1, Effective: true, Applied: true}
	closing := api.PolicyStatus{Version: 2, Effective: true, InForce: true}
	applied := api.PolicyStatus{Version: 2, Effective: true, InForce: true, Applied: true}
	scheduled := api.PolicyStatus{Version: 3}
	for _, c := range []struct {
		versions []api.PolicyStatus
		want     bool
	}{
		{nil, true},
		{[]api.PolicyStatus{superseded, applied}, true},
		{[]api.PolicyStatus{superseded, closing}, false},
		{[]api.PolicyStatus{superseded, applied, scheduled}, false},
	} {
		if got := policybook.Settled(api.PolicyReport{Versions: c.versions}); got != c.want {
			t.Errorf("Settled(%+v) = %v, want %v", c.versions, got, c.want)
		}
	}
}
