package rpc

import (
	"testing"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, testkit.ServerLeaks...) }
