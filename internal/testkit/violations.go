package testkit

import (
	"errors"
	"strings"
	"testing"
)

// CheckViolations fails t unless err, an Options.Validate error, wraps
// sentinel and reports exactly the violations want, one line each, each
// line containing its entry of want.
func CheckViolations(t testing.TB, err, sentinel error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("valid options refused: %v", err)
		}
		return
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("err %v does not wrap %v", err, sentinel)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err %q does not report %q", err, w)
		}
	}
	if n := len(strings.Split(err.Error(), "\n")); n != len(want) {
		t.Errorf("%d violations reported, want %d: %v", n, len(want), err)
	}
}
