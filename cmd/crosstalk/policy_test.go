package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// startServe runs 'crosstalk serve' on a free address until the test ends
// and returns its NATS URL.
func startServe(t *testing.T) string {
	t.Helper()
	url, stop := serveOn(t, t.TempDir())
	t.Cleanup(stop)
	return url
}

// serveOn runs 'crosstalk serve' on dir at a free address until stop is
// called, and returns its NATS URL.
func serveOn(t *testing.T, dir string) (url string, stop func()) {
	t.Helper()
	addr := testkit.FreeAddr(t)
	return serveWith(t, addr, "--data", dir, "--listen", addr)
}

// serveWith runs serve with args, which make it listen on addr (with
// --listen, or a configuration file's), until stop.
func serveWith(t *testing.T, addr string, args ...string) (url string, stop func()) {
	t.Helper()
	_, stop = runServe(t, args...)
	return "nats://" + addr, stop
}

// runServe runs 'crosstalk serve' with args until stop is called, once it
// has logged that it is ready, and returns its log.
func runServe(t *testing.T, args ...string) (logs *testkit.LockedBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &testkit.LockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve"}, args...), logs, logs) }()
	stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v\n%s", err, logs.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not shut down")
		}
	}
	ready := false
	defer func() {
		if !ready { // waitReady failed the test: stop serve before it ends
			stop()
		}
	}()
	waitReady(t, logs)
	ready = true
	return logs, stop
}

// serveConfiguredOn runs serve on the data directory dir of a node that
// ran under an identity configuration (as the demo's does), under a new
// one from 'crosstalk auth init': its streams are kept under the service
// account's name, which any generated configuration has. It returns the
// URL and the flags that connect as the auditor.
func serveConfiguredOn(t *testing.T, dir string) (url string, asAuditor []string, stop func()) {
	t.Helper()
	url, c, stop := serveUnderIdentities(t, "--data", dir)
	return url, credFlags(t, c, natsconf.PrincipalAuditor), stop
}

// serveUnderIdentities runs 'crosstalk serve' with args under the
// configuration that 'crosstalk auth init' writes for a free address, until
// stop is called. It returns the server's URL and the configuration's
// credentials.
func serveUnderIdentities(t *testing.T, args ...string) (url string, c natsconf.Config, stop func()) {
	t.Helper()
	addr := testkit.FreeAddr(t)
	authDir, c := runAuthInit(t, addr)
	url, stop = serveWith(t, addr, append(args, "--nats-config", filepath.Join(authDir, natsconf.ConfFile))...)
	return url, c, stop
}

// credFlags are the flags that connect a command as principal of c: its
// user, password and inbox prefix.
func credFlags(t *testing.T, c natsconf.Config, principal string) []string {
	t.Helper()
	cr, err := c.Lookup(principal)
	if err != nil {
		t.Fatal(err)
	}
	return []string{"--user", cr.User, "--password", cr.Password, "--inbox-prefix", cr.InboxPrefix}
}

// runCLI runs the binary's code path with args and returns stdout and
// stderr.
func runCLI(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	var out, errOut testkit.LockedBuffer
	err = run(ctx, args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestPolicyStatusJSONWatchAndScheduled(t *testing.T) {
	url := startServe(t)
	ctx := context.Background()
	v1 := filepath.Join("..", "..", "docs", "policies", "v1-2020-cross-app.json")
	if out, _, err := runCLI(ctx, "policy", "publish", v1, "--nats-url", url); err != nil {
		t.Fatalf("publish v1: %v\n%s", err, out)
	}

	out, _, err := runCLI(ctx, "policy", "status", "--json", "--nats-url", url)
	if err != nil {
		t.Fatalf("status --json: %v", err)
	}
	var rep api.PolicyReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("status --json is not the report: %v\n%s", err, out)
	}
	if rep.Current != 1 || len(rep.Versions) != 1 || !rep.Versions[0].InForce || rep.Versions[0].Name != "cross-app-messaging-2020" {
		t.Errorf("want version 1 in force, got %+v", rep)
	}

	// The closer scans twice, CloseGrace (the 5 s command timeout) apart,
	// before v1 is applied; --watch waits for that.
	out, progress, err := runCLI(ctx, "policy", "status", "--watch", "--interval", "50ms", "--timeout", "30s", "--nats-url", url)
	if err != nil {
		t.Fatalf("status --watch: %v\n%s%s", err, out, progress)
	}
	if !strings.Contains(out, "in force") || !strings.Contains(out, "true") || !strings.Contains(out, "current version: 1") {
		t.Errorf("status --watch must end with the table, v1 applied:\n%s", out)
	}
	if strings.Contains(progress, "\r") {
		t.Errorf("a non-terminal gets plain lines, not a bar:\n%q", progress)
	}

	v2 := writePolicy(t, `{"version": 2, "name": "future", "effective_at": "2099-01-01T00:00:00Z", "links": []}`)
	if out, _, err := runCLI(ctx, "policy", "publish", v2, "--nats-url", url); err != nil {
		t.Fatalf("publish v2: %v\n%s", err, out)
	}
	out, _, err = runCLI(ctx, "policy", "status", "--nats-url", url)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if !strings.Contains(out, "scheduled for 2099-01-01T00:00:00Z") || !strings.Contains(out, "current version: 1") {
		t.Errorf("v2 must show as scheduled, v1 still current:\n%s", out)
	}

	// With a version scheduled, --watch keeps watching: until its timeout
	// (an error) or until it is interrupted (no error).
	out, progress, err = runCLI(ctx, "policy", "status", "--watch", "--interval", "50ms", "--timeout", "300ms", "--nats-url", url)
	if err == nil || !strings.Contains(err.Error(), "not settled after 300ms") {
		t.Errorf("--watch with a scheduled version must time out with an error, got %v\n%s", err, out)
	}
	if !strings.Contains(progress, "v2 takes effect at 2099-01-01T00:00:00Z; watching") {
		t.Errorf("--watch must say what it waits for:\n%s", progress)
	}
	ictx, interrupt := context.WithTimeout(ctx, 300*time.Millisecond)
	defer interrupt()
	if _, _, err := runCLI(ictx, "policy", "status", "--watch", "--interval", "50ms", "--nats-url", url); err != nil {
		t.Errorf("an interrupted --watch must return no error, got %v", err)
	}
}

func writePolicy(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
