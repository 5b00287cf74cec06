package audit_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/projector"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Pin the adapters to the interfaces the audit consumes.
var (
	_ audit.Log   = (*eventlog.Log)(nil)
	_ audit.Views = (*projector.Store)(nil)
)
