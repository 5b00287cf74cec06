package client_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, testkit.ServerLeaks...) }
