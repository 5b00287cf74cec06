package optcheck

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Every violation is reported at once, each naming the type, the field
// and the rule, each matched by errors.Is, nested ones included.
func TestViolationsReportEveryFieldAndRule(t *testing.T) {
	inner := New("inner.Options")
	NotNegative(inner, "Batch", -1)
	v := New("pkg.Options")
	NotNegative(v, "Timeout", -time.Second)
	NotNegative(v, "Size", int64(0))
	NotNegative(v, "Count", 3)
	v.Add("Name", "must not be empty")
	v.Nested("Inner", inner.Err())
	v.Nested("Other", New("other.Options").Err())
	err := v.Err()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err %v does not wrap ErrInvalid", err)
	}
	want := []string{"pkg.Options.Timeout is -1s: it must not be negative",
		"pkg.Options.Name must not be empty", "pkg.Options.Inner: invalid options: inner.Options.Batch is -1"}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err %q does not say %q", err, w)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(want) {
		t.Errorf("%d violations reported, want %d: %v", n, len(want), err)
	}
	if err := New("ok.Options").Err(); err != nil {
		t.Errorf("no violation: %v", err)
	}
}
