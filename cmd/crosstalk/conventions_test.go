package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// saveNatsContext writes a nats CLI context as `nats context save` does,
// under a configuration directory of the test's own.
func saveNatsContext(t *testing.T, name string, ctx map[string]string) {
	t.Helper()
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	dir := filepath.Join(cfg, "nats", "context")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ctx)
	if err := os.WriteFile(filepath.Join(dir, name+".json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// The nats CLI's conventions hold in every command that connects: a
// context (--context, $NATS_CONTEXT) gives the server and the credentials,
// so no password goes on a command line; $NATS_URL points the audit
// commands at a running server instead of ./crosstalk-data; and a request
// the credentials may not make fails at once, naming the subject and who
// was refused, instead of waiting 10 s for a timeout.
func TestNatsConventionsAndRefusalsAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url, c, stop := serveUnderIdentities(t, "--data", t.TempDir())
	defer stop()
	admin, _ := c.Lookup(natsconf.PrincipalAdmin)
	saveNatsContext(t, "crosstalk-admin", map[string]string{"url": url, "user": admin.User, "password": admin.Password, "inbox_prefix": admin.InboxPrefix})
	v1 := filepath.Join("..", "..", "docs", "policies", "v1-2020-cross-app.json")
	if out, errOut, err := runCLI(ctx, "policy", "publish", v1, "--context", "crosstalk-admin"); err != nil {
		t.Fatalf("publish with --context: %v\n%s%s", err, out, errOut)
	}
	t.Setenv("NATS_CONTEXT", "crosstalk-admin")
	if out, errOut, err := runCLI(ctx, "policy", "status"); err != nil || !strings.Contains(out, "v1") && !strings.Contains(out, "1 ") {
		t.Fatalf("policy status with $NATS_CONTEXT: %v\n%s%s", err, out, errOut)
	}
	t.Setenv("NATS_CONTEXT", "")
	t.Setenv("NATS_URL", url)
	asAuditor := credFlags(t, c, natsconf.PrincipalAuditor)
	if out, errOut, err := runCLI(ctx, append([]string{"audit", "checksum"}, asAuditor...)...); err != nil || !strings.Contains(out, "sha256") {
		t.Fatalf("audit checksum with $NATS_URL and no --data: %v\n%s%s", err, out, errOut)
	}
	for _, c := range []struct {
		who  string
		args []string
	}{
		{"an app", append([]string{"policy", "publish", v1}, credFlags(t, c, "instagram")...)},
		{"the auditor", append([]string{"policy", "status"}, asAuditor...)},
		{"the auditor", append([]string{"status"}, asAuditor...)},
	} {
		_, _, err := runCLI(ctx, c.args...)
		if err == nil || !strings.Contains(err.Error(), "Permissions Violation") || !strings.Contains(err.Error(), "as user ") ||
			strings.Contains(err.Error(), "deadline exceeded") {
			t.Errorf("%s: %v; want the permissions violation at once, naming the subject and the user", c.who, err)
		}
	}
}
