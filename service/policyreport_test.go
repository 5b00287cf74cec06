package service_test

import (
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/service"
)

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
