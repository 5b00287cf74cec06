package broker

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartServesJetStreamUnderDir(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(Options{Listen: "127.0.0.1:0", JetStreamDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	if !s.JetStreamEnabled() || !strings.HasPrefix(s.JetStreamConfig().StoreDir, dir) {
		t.Fatalf("JetStream must be on, under %s: %+v", dir, s.JetStreamConfig())
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
}

func TestStartRefusesBadListenAddress(t *testing.T) {
	for _, addr := range []string{"nonsense", "127.0.0.1:http"} {
		if _, err := Start(Options{Listen: addr, JetStreamDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), addr) {
			t.Errorf("%q: want an error naming the address, got %v", addr, err)
		}
	}
}
