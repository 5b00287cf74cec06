package report_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/report"
)

// The views as of an instant are built into an absent or empty directory;
// one holding files is refused, naming the field.
func TestAsOfOptionsValidate(t *testing.T) {
	dir := t.TempDir()
	testkit.CheckViolations(t, report.AsOfOptions{}.Validate(), report.ErrInvalidOptions, nil)
	testkit.CheckViolations(t, report.AsOfOptions{Dir: dir}.Validate(), report.ErrInvalidOptions, nil)
	testkit.CheckViolations(t, report.AsOfOptions{Dir: filepath.Join(dir, "absent")}.Validate(), report.ErrInvalidOptions, nil)
	if err := os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	testkit.CheckViolations(t, report.AsOfOptions{Dir: dir}.Validate(), report.ErrInvalidOptions,
		[]string{"report.AsOfOptions.Dir holds files"})
}
