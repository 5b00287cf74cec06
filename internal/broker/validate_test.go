package broker_test

import (
	"testing"

	"github.com/crosstalk-dev/crosstalk/internal/broker"
	"github.com/crosstalk-dev/crosstalk/internal/optcheck"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// Validate reports every violation at once; Start refuses them before it
// starts a server.
func TestOptionsValidate(t *testing.T) {
	testkit.CheckViolations(t, broker.Options{JetStreamDir: t.TempDir()}.Validate(), optcheck.ErrInvalid, nil)
	bad := broker.Options{SyncInterval: -1, Account: "CROSSTALK", ConfigFile: "nats.conf"}
	want := []string{"broker.Options.JetStreamDir is empty", "broker.Options.SyncInterval is -1ns", "broker.Options.Account is set with ConfigFile"}
	testkit.CheckViolations(t, bad.Validate(), optcheck.ErrInvalid, want)
	if srv, err := broker.Start(bad); err == nil {
		srv.Shutdown()
		t.Fatal("Start ran a server on invalid options")
	}
}
