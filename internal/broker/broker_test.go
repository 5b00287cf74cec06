package broker

import (
	"os"
	"path/filepath"
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

// A configuration file's settings apply, but the data directory decides
// where JetStream keeps its files, and Listen, when given, overrides the
// file's.
func TestStartRunsConfigFileWithCrosstalksStoreDir(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "nats.conf")
	body := "listen: \"127.0.0.1:1\"\njetstream { store_dir: \"" + filepath.Join(dir, "elsewhere") + "\" }\n" +
		"authorization { user: a, password: b }\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	js := filepath.Join(dir, "jetstream")
	s, err := Start(Options{ConfigFile: conf, Listen: "127.0.0.1:0", JetStreamDir: js})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	if !strings.HasPrefix(s.JetStreamConfig().StoreDir, js) {
		t.Errorf("JetStream under %s, want %s", s.JetStreamConfig().StoreDir, js)
	}
	if nc, err := nats.Connect(s.ClientURL()); err == nil {
		nc.Close()
		t.Error("the file's authorization was not applied")
	}
	nc, err := nats.Connect(s.ClientURL(), nats.UserInfo("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if _, err := Start(Options{ConfigFile: filepath.Join(dir, "missing.conf"), JetStreamDir: js}); err == nil {
		t.Error("a missing configuration file was accepted")
	}
}

// The streams a server under a configuration kept in an account of its own
// are found again by a server of Options.Account, without credentials, and
// not by an open one.
func TestStartOpensAnAccountsStreamsWithoutCredentials(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "nats.conf")
	body := "accounts { SVC { jetstream: enabled, users: [{user: a, password: b}] } }\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	js := filepath.Join(dir, "jetstream")
	s, err := Start(Options{ConfigFile: conf, Listen: "127.0.0.1:0", JetStreamDir: js})
	if err != nil {
		t.Fatal(err)
	}
	addStream(t, s.ClientURL(), nats.UserInfo("a", "b"))
	s.Shutdown()
	s.WaitForShutdown()

	if n := streams(t, Options{Listen: "127.0.0.1:0", JetStreamDir: js}); n != 0 {
		t.Errorf("an open server found %d streams of account SVC", n)
	}
	if n := streams(t, Options{Listen: "127.0.0.1:0", JetStreamDir: js, Account: "SVC"}); n != 1 {
		t.Errorf("a server of account SVC found %d streams, want 1", n)
	}
	if _, err := Start(Options{ConfigFile: conf, Account: "SVC", JetStreamDir: js}); err == nil {
		t.Error("an account and a configuration file were both accepted")
	}
}

func addStream(t *testing.T, url string, opts ...nats.Option) {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddStream(&nats.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
}

// streams counts the streams a server started with o shows a connection
// without credentials.
func streams(t *testing.T, o Options) int {
	t.Helper()
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range js.StreamNames() {
		n++
	}
	return n
}
