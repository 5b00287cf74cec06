package testkit

import (
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
)

// policyTimeout bounds how long WaitPolicyApplied waits: the closer applies
// a version only after its grace period and a check interval.
const policyTimeout = 20 * time.Second

// WaitPolicyApplied waits until the policy report, as report returns it
// (a query through NATS, or one instance's own report), says that the
// closer has applied version v, and returns v's status. It fails the test
// if report fails or v is not applied in time.
func WaitPolicyApplied(t testing.TB, report func() (api.PolicyReport, error), v uint64) api.PolicyStatus {
	t.Helper()
	for deadline := time.Now().Add(policyTimeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		rep, err := report()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range rep.Versions {
			if p.Version == v && p.Applied {
				return p
			}
		}
	}
	t.Fatalf("policy v%d not applied within %s", v, policyTimeout)
	return api.PolicyStatus{}
}
