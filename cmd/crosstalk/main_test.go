package main

import (
	"bytes"
	"context"
	"errors"
	"github.com/crosstalk-dev/crosstalk/admission"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// A mirror of the auditor's (docs/security.md) whose origin's consumer goes
// away as the embedded server stops asks for a new one, and nats-server
// waits for the answer, up to 30 s, in a goroutine that does not watch the
// shutdown: the server's, not crosstalk's.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, testkit.ServerLeaks...)
}

// The demo is the seed story end to end through the real binary's code path,
// under a generated identity configuration, and the five refusals of a
// client that lies: it fails if any expectation fails.
func TestDemoPlaysTheSeedStory(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"demo", "--data", t.TempDir()}, &out, &errOut)
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{
		"policy v1 published", "policy v2 is scheduled", "closed by policy version 2",
		"message.send by instagram:alice refused", "cross_app_not_allowed",
		"no longer sees instagram:alice's activity status or read receipts", "byte-identical",
		"the same audit checksum before and after", "sha256: ", "until seq: ",
		"the seed story played as the contract says",
		"identities enforced by a generated configuration",
		`the Instagram app may not publish on crosstalk.cmd.messenger.message.send: refused by NATS itself (nats: permissions violation: Permissions Violation for Publish to "crosstalk.cmd.messenger.message.send")`,
		"messenger:bob, on its own connection, claims the viewer instagram:eve and still does not see instagram:alice's activity status (visible: false)",
		"messenger:bob asks for instagram:alice's inbox with a forged Nats-Request-Info header claiming instagram:alice: answered as messenger:bob, 403 forbidden",
		"messenger:bob, over a bare socket, hides a forged Nats-Request-Info claiming instagram:eve behind a bare LF: refused, 400 invalid_request",
		`messenger:bob may not subscribe to _INBOX.>: refused by NATS itself (nats: permissions violation: Permissions Violation for Subscription to "_INBOX.>")`,
		`messenger:bob may not subscribe to _INBOX.app.messenger.>: refused by NATS itself`,
		"messenger:bob may subscribe for replies only under his own prefix _INBOX.user.messenger.bob.>",
		"the identities held",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

// --version and the version command print the same line, naming the
// build and its Go version.
func TestVersionNamesTheBuild(t *testing.T) {
	var flag, cmd bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, &flag, &flag); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"version"}, &cmd, &cmd); err != nil {
		t.Fatal(err)
	}
	if flag.String() != cmd.String() || !strings.HasPrefix(flag.String(), "crosstalk ") || !strings.Contains(flag.String(), runtime.Version()) {
		t.Fatalf("--version %q, version %q", flag.String(), cmd.String())
	}
}

func TestHelpExplains(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"demo", "--help"}, {"policy", "publish", "--help"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if out.Len() < 200 {
			t.Errorf("%v: help too short:\n%s", args, out.String())
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"serve", "--bogus"}, &out, &out); err == nil {
		t.Error("an unknown flag must be an error")
	}
	out.Reset()
	err := run(context.Background(), []string{"serve", "--append-timeout", "0s", "--data", t.TempDir()}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "--append-timeout") {
		t.Errorf("serve --append-timeout 0s: want an error naming the flag, got %v", err)
	}
	err = run(context.Background(), []string{"serve", "--durable-feeds-max-age", "-1h", "--data", t.TempDir()}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "--durable-feeds-max-age") {
		t.Errorf("serve --durable-feeds-max-age -1h: want an error naming the flag, got %v", err)
	}
	err = run(context.Background(), []string{"serve", "--limit", "user.commands=fast", "--data", t.TempDir()}, &out, &out)
	if !errors.Is(err, admission.ErrBadLimit) || !strings.Contains(err.Error(), "--limit") {
		t.Errorf("serve --limit user.commands=fast: want ErrBadLimit naming the flag, got %v", err)
	}
}

// serve runs on the given address until its context is cancelled (as by
// SIGINT), then shuts down cleanly; a policy can be published to it with the
// CLI meanwhile.
func TestServeAndPolicyPublish(t *testing.T) {
	addr := testkit.FreeAddr(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var logs testkit.LockedBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--data", dir, "--listen", addr}, &logs, &logs) }()
	waitReady(t, &logs)

	var out bytes.Buffer
	policy := filepath.Join("..", "..", "docs", "policies", "v1-2020-cross-app.json")
	url := "nats://" + addr
	if err := run(context.Background(), []string{"policy", "publish", policy, "--nats-url", url}, &out, &out); err != nil {
		t.Fatalf("policy publish: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"policy", "publish", policy, "--nats-url", url}, &out, &out); err != nil {
		t.Fatalf("publishing the same file again: %v", err)
	}
	if err := run(context.Background(), []string{"policy", "status", "--nats-url", url}, &out, &out); err != nil {
		t.Fatalf("policy status: %v", err)
	}
	for _, want := range []string{"published policy version 1", "(position v1.", "duplicate", "cross-app-messaging-2020", "in force"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("policy output lacks %q:\n%s", want, out.String())
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if !strings.Contains(logs.String(), addr) {
		t.Errorf("serve must log where it listens:\n%s", logs.String())
	}
	if _, err := os.Stat(node.Layout{Dir: dir}.Views()); err != nil {
		t.Errorf("serve must keep its views under --data: %v", err)
	}
}

// waitReady waits for serve's log line that its endpoints answer.
func waitReady(t *testing.T, logs *testkit.LockedBuffer) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(logs.String(), "crosstalk service ready") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve did not become ready:\n%s", logs.String())
}
