package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/authcallout"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// The walkthrough of docs/security.md through the CLI: 'auth init
// --callout' writes the configuration and the keys, serve runs under it,
// 'auth callout --dir' authenticates devices, and a device with a token
// from 'auth token' acts as its end user; a token signed with another
// app's seed is refused.
func TestAuthCalloutThroughTheCLI(t *testing.T) {
	addr := testkit.FreeAddr(t)
	dir := filepath.Join(t.TempDir(), "auth")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"auth", "init", "--callout", "--dir", dir, "--listen", addr}, &out, &out); err != nil {
		t.Fatalf("auth init --callout: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "crosstalk auth callout --dir "+dir) {
		t.Errorf("auth init --callout does not say how to run the callout:\n%s", out.String())
	}
	for _, name := range []string{authcallout.IssuerSeedFile, authcallout.KeysFile, authcallout.AppSeedFile("messenger")} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", name, err)
		}
	}
	serveInBackground(t, "--data", t.TempDir(), "--nats-config", filepath.Join(dir, natsconf.ConfFile))
	url := "nats://" + addr
	runCallout(t, "--dir", dir, "--nats-url", url)

	alice := mintWithCLI(t, "instagram", "alice", filepath.Join(dir, authcallout.AppSeedFile("instagram")))
	nc, err := nats.Connect(url, nats.Token(alice), nats.CustomInboxPrefix("_INBOX.user.instagram.alice"))
	if err != nil {
		t.Fatalf("a device with alice's token: %v", err)
	}
	defer nc.Close()
	// alice may read her own inbox (empty: 404), not carol's (403)
	for account, want := range map[string]string{"instagram:alice": "404", "instagram:carol": "403"} {
		r, err := nc.Request("crosstalk.query.inbox", []byte(`{"account":"`+account+`"}`), 10*time.Second)
		if err != nil || r.Header.Get("Nats-Service-Error-Code") != want {
			t.Errorf("%s's inbox: %v %v, want %s", account, err, r, want)
		}
	}
	forged := mintWithCLI(t, "messenger", "bob", filepath.Join(dir, authcallout.AppSeedFile("instagram")))
	if _, err := nats.Connect(url, nats.Token(forged)); err == nil || !strings.Contains(err.Error(), "Authorization Violation") {
		t.Errorf("messenger:bob signed by instagram's seed: %v, want an authorization violation", err)
	}
}

// runCallout runs 'auth callout' with args until the test ends.
func runCallout(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testkit.LockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"auth", "callout"}, args...), logs, logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("auth callout: %v\n%s", err, logs.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "auth callout ready") {
		if time.Now().After(deadline) {
			t.Fatalf("auth callout did not start:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mintWithCLI runs 'auth token' and returns the token it printed.
func mintWithCLI(t *testing.T, app, handle, seed string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"auth", "token", "--app", app, "--handle", handle, "--seed", seed, "--ttl", "1m"}, &out, &out); err != nil {
		t.Fatalf("auth token: %v\n%s", err, out.String())
	}
	return strings.TrimSpace(out.String())
}
