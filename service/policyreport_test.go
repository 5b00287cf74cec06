package service_test

import (
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/service"
)

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
		if got := service.PolicySettled(api.PolicyReport{Versions: c.versions}); got != c.want {
			t.Errorf("PolicySettled(%+v) = %v, want %v", c.versions, got, c.want)
		}
	}
}

// TestSupersededVersionReportsApplied: a version superseded before the
// closer's confirming second pass (its CloseGrace has not passed) never
// gets that pass; the policy report and ClosingProgress (which the
// crosstalk_closer_applied metric reads) both report it applied, so an
// alert on "not applied" does not fire forever.
func TestSupersededVersionReportsApplied(t *testing.T) {
	h := newHarness(t)
	h.restart(service.Options{CloseGrace: time.Hour})
	h.publishFile("v1-2020-cross-app.json")
	waitScanned(t, h.svc, 1)
	if h.svc.ClosingProgress()[1].Applied {
		t.Fatal("v1 reported applied before its second pass and before anything superseded it")
	}
	h.clock.Set(time.Date(2023, 12, 15, 9, 0, 0, 0, time.UTC))
	h.publishFile("v2-2023-12-cross-app-disconnect.json")
	if !h.svc.ClosingProgress()[1].Applied {
		t.Errorf("superseded v1: ClosingProgress reports it not applied: %+v", h.svc.ClosingProgress())
	}
	rep, err := h.policyReport()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Versions) != 2 || !rep.Versions[0].Applied {
		t.Errorf("superseded v1: the policy report says %+v", rep.Versions)
	}
}

// waitScanned waits until the closer has scanned for version v.
func waitScanned(t *testing.T, svc *service.Service, v uint64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, ok := svc.ClosingProgress()[v]; ok {
			return
		}
	}
	t.Fatalf("the closer never scanned for version %d", v)
}
