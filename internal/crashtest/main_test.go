package crashtest

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		crosstalkBuild.remove()
		natsServerBuild.remove()
		os.Exit(code)
	}))
}
