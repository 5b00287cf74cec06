package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// sha256Of is the first sha256 a command printed.
var sha256Of = regexp.MustCompile(`sha256:? ([0-9a-f]{64})`)

// 'crosstalk backup' of a running serve and 'crosstalk restore' into a
// fresh server, as docs/operations.md runs them: the backup prints the
// checksum 'audit checksum' prints, restore prints it again with one
// replica per stream, and a second restore is refused, naming CROSSTALK.
func TestBackupAndRestoreCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, bdir := t.TempDir(), filepath.Join(t.TempDir(), "backup")
	url, stopServe := serveOn(t, dir)
	stop := sync.OnceFunc(stopServe)
	defer stop()
	v1 := filepath.Join("..", "..", "docs", "policies", "v1-2020-cross-app.json")
	if out, errOut, err := runCLI(ctx, "policy", "publish", v1, "--nats-url", url); err != nil {
		t.Fatalf("publish: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err := runCLI(ctx, "backup", bdir, "--nats-url", url, "--data", dir)
	if err != nil || !strings.Contains(out, "KV_CROSSTALK_LEASES") || !strings.Contains(out, "signing key: ") ||
		!strings.Contains(errOut, "backed up ") {
		t.Fatalf("backup: %v\n%s%s", err, out, errOut)
	}
	sum, _, err := runCLI(ctx, "audit", "checksum", "--nats-url", url)
	if err != nil || sha256Of.FindStringSubmatch(sum)[1] != sha256Of.FindStringSubmatch(out)[1] {
		t.Fatalf("audit checksum %v:\n%s\nbackup:\n%s", err, sum, out)
	}
	stop()

	fresh := natstest.Start(t)
	out, errOut, err = runCLI(ctx, "restore", bdir, "--nats-url", fresh.URL())
	if err != nil || !regexp.MustCompile(`CROSSTALK +log +\d+ +1 +1\n`).MatchString(out) ||
		sha256Of.FindStringSubmatch(out)[1] != sha256Of.FindStringSubmatch(sum)[1] {
		t.Fatalf("restore: %v\n%s%s", err, out, errOut)
	}
	_, _, err = runCLI(ctx, "restore", bdir, "--nats-url", fresh.URL())
	if err == nil || !strings.Contains(err.Error(), "CROSSTALK,") {
		t.Fatalf("a second restore: %v; want a refusal naming CROSSTALK", err)
	}
}

// Under an identity configuration the service's credentials back up, and
// the auditor's, which may not snapshot, fail at once with the violation
// and who was refused, not after the request's timeout.
func TestBackupUnderIdentities(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url, c, stop := serveUnderIdentities(t, "--data", t.TempDir())
	defer stop()
	aud, _ := c.Lookup(natsconf.PrincipalAuditor)
	out, errOut, err := runCLI(ctx, append([]string{"backup", filepath.Join(t.TempDir(), "b"), "--nats-url", url},
		credFlags(t, c, natsconf.PrincipalService)...)...)
	if err != nil || !strings.Contains(out, "log checksum: sha256 ") {
		t.Fatalf("backup as the service: %v\n%s%s", err, out, errOut)
	}
	_, _, err = runCLI(ctx, append([]string{"backup", filepath.Join(t.TempDir(), "b"), "--nats-url", url},
		credFlags(t, c, natsconf.PrincipalAuditor)...)...)
	if err == nil || !strings.Contains(err.Error(), "Permissions Violation") || !strings.Contains(err.Error(), "as user "+aud.User) {
		t.Fatalf("backup as the auditor: %v; want the permissions violation, naming the user", err)
	}
}
