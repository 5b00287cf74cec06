package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/node"
)

// runAuthInit runs 'crosstalk auth init' into a new directory and returns it
// with the credentials it wrote.
func runAuthInit(t *testing.T, listen string) (string, natsconf.Config) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "auth")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"auth", "init", "--dir", dir, "--listen", listen}, &out, &out); err != nil {
		t.Fatalf("auth init: %v\n%s", err, out.String())
	}
	for _, want := range []string{"nats context save crosstalk-instagram-alice --server nats://" + listen,
		"--inbox-prefix '_INBOX.user.instagram.alice'\n", "--inbox-prefix '_INBOX.app.messenger'\n",
		"crosstalk serve --nats-config " + filepath.Join(dir, natsconf.ConfFile)} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("auth init output lacks %q:\n%s", want, out.String())
		}
	}
	err := run(context.Background(), []string{"auth", "init", "--dir", dir}, &out, &out)
	if !errors.Is(err, natsconf.ErrExists) {
		t.Errorf("auth init over an existing configuration: %v, want ErrExists", err)
	}
	c, err := natsconf.ReadCredentials(filepath.Join(dir, natsconf.CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, cr := range c.Credentials {
		if cr.InboxPrefix != natsconf.InboxPrefix(cr.Kind, cr.Principal) {
			t.Errorf("credentials.json: %s has inbox_prefix %q", cr.Principal, cr.InboxPrefix)
		}
	}
	return dir, c
}

// serveInBackground runs serve with args until the test ends.
func serveInBackground(t *testing.T, args ...string) *testkit.LockedBuffer {
	t.Helper()
	logs, stop := runServe(t, args...)
	t.Cleanup(stop)
	return logs
}

func connectAs(t *testing.T, c natsconf.Config, url, principal string) *nats.Conn {
	t.Helper()
	cr, err := c.Lookup(principal)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := node.ConnectWith(url, "test "+principal, node.CredentialsOf(cr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Under a generated configuration, an app sends commands over its own
// connection, and the auditor verifies, checksums and exports the history
// read-only through the CLI, but cannot purge it: NATS refuses.
func TestServeUnderGeneratedConfigurationAndAuditAsAuditor(t *testing.T) {
	addr := testkit.FreeAddr(t)
	authDir, c := runAuthInit(t, addr)
	logs := serveInBackground(t, "--data", t.TempDir(), "--nats-config", filepath.Join(authDir, natsconf.ConfFile))
	if strings.Contains(logs.String(), "self-declared") {
		t.Errorf("serve under a configuration must not warn of self-declared identities:\n%s", logs.String())
	}
	url := "nats://" + addr
	if nc, err := nats.Connect(url); err == nil {
		nc.Close()
		t.Fatal("an unauthenticated connection was accepted")
	}

	app := client.New(connectAs(t, c, url, "instagram"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 3 {
		_, err := app.Command(ctx, "instagram", "conversation.start", map[string]any{
			"command_id": uuid.NewString(), "actor": "instagram:alice", "participants": []string{"instagram:bob"},
		})
		if err != nil {
			t.Fatalf("the app's command: %v", err)
		}
	}

	aud, err := c.Lookup(natsconf.PrincipalAuditor)
	if err != nil {
		t.Fatal(err)
	}
	asAuditor := []string{"--nats-url", url, "--user", aud.User, "--password", aud.Password, "--inbox-prefix", aud.InboxPrefix}
	export := filepath.Join(t.TempDir(), "export.jsonl")
	for _, args := range [][]string{
		{"audit", "verify"}, {"audit", "checksum"}, {"audit", "export", "--out", export},
	} {
		var out bytes.Buffer
		if err := run(ctx, append(args, asAuditor...), &out, &out); err != nil {
			t.Fatalf("%v as the auditor: %v\n%s", args, err, out.String())
		}
		if args[1] == "checksum" && !strings.Contains(out.String(), "events: 3") {
			t.Errorf("checksum as the auditor:\n%s", out.String())
		}
	}
	if data, err := os.ReadFile(export); err != nil || bytes.Count(data, []byte("\n")) != 3 {
		t.Errorf("the auditor's export: %v, %d lines", err, bytes.Count(data, []byte("\n")))
	}
	sameAsTheService(ctx, t, c, url, asAuditor)

	refusals := make(chan error, 1)
	nc, err := node.ConnectWith(url, "test auditor", node.CredentialsOf(aud),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case refusals <- err:
			default:
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	auditorCannotPurge(ctx, t, nc, refusals)
}

// sameAsTheService checks that the auditor, reading its copy in account
// AUDIT, sums the same history as the service reading its own stream.
func sameAsTheService(ctx context.Context, t *testing.T, c natsconf.Config, url string, asAuditor []string) {
	t.Helper()
	svc, err := c.Lookup(natsconf.PrincipalService)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for who, creds := range map[string][]string{
		"auditor": asAuditor, "service": {"--nats-url", url, "--user", svc.User, "--password", svc.Password},
	} {
		var out bytes.Buffer
		if err := run(ctx, append([]string{"audit", "checksum", "--json"}, creds...), &out, &out); err != nil {
			t.Fatalf("checksum as the %s: %v\n%s", who, err, out.String())
		}
		sums[who] = out.String()
	}
	if sums["auditor"] != sums["service"] {
		t.Errorf("the auditor's copy sums\n%s\nthe service's stream\n%s", sums["auditor"], sums["service"])
	}
}

// auditorCannotPurge checks that NATS refuses the auditor the purge
// subject: the stream denies purges anyway, but the auditor must be stopped
// before JetStream is asked.
func auditorCannotPurge(ctx context.Context, t *testing.T, nc *nats.Conn, refusals <-chan error) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatalf("the auditor reads the stream's info: %v", err)
	}
	if err := stream.Purge(ctx); err == nil {
		t.Fatal("the auditor purged the stream")
	}
	select {
	case err := <-refusals:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("the auditor's purge: %v, want a permissions violation", err)
		}
	case <-time.After(2 * time.Second):
		t.Error("NATS did not refuse the auditor's purge")
	}
}

// Without any auth configuration serve is the development mode: one
// warning that identities are self-declared, loopback only unless
// --insecure.
func TestServeDevelopmentMode(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--listen", "0.0.0.0:0"}, &out, &out)
	if !errors.Is(err, node.ErrNotLoopback) || !strings.Contains(err.Error(), "--insecure") {
		t.Errorf("serve on 0.0.0.0 without auth: %v, want ErrNotLoopback naming --insecure", err)
	}
	logs := serveInBackground(t, "--data", t.TempDir(), "--listen", testkit.FreeAddr(t))
	if n := strings.Count(logs.String(), "self-declared"); n != 1 {
		t.Errorf("development mode must warn once that identities are self-declared, warned %d times:\n%s", n, logs.String())
	}
}

// auth init's limit flags reach the configuration: the app accounts' and
// the service account's, the others keeping their defaults; a limit
// nats-server cannot take is refused before anything is written.
func TestAuthInitLimitFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "auth")
	var out bytes.Buffer
	err := run(context.Background(), []string{"auth", "init", "--dir", dir, "--apps", "instagram",
		"--app-max-connections", "7", "--app-max-subscriptions", "9", "--app-max-payload", "4096",
		"--service-max-connections", "11", "--service-max-subscriptions", "13"}, &out, &out)
	if err != nil {
		t.Fatalf("auth init: %v\n%s", err, out.String())
	}
	conf, err := os.ReadFile(filepath.Join(dir, natsconf.ConfFile))
	if err != nil {
		t.Fatal(err)
	}
	d := natsconf.DefaultLimits.Admin
	for _, want := range []string{
		"limits: {max_connections: 7, max_subscriptions: 9, max_payload: 4096}",
		fmt.Sprintf("limits: {max_connections: 11, max_subscriptions: 13, max_payload: %d}", natsconf.DefaultLimits.Service.MaxPayload),
		fmt.Sprintf("limits: {max_connections: %d, max_subscriptions: %d, max_payload: %d}", d.MaxConnections, d.MaxSubscriptions, d.MaxPayload),
	} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("nats.conf lacks %q:\n%s", want, conf)
		}
	}
	err = run(context.Background(), []string{"auth", "init", "--dir", filepath.Join(t.TempDir(), "bad"),
		"--app-max-payload", "-5"}, &out, &out)
	if !errors.Is(err, natsconf.ErrLimits) {
		t.Errorf("a negative payload: %v, want ErrLimits", err)
	}
}
