package natsconf

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
)

// startServer runs nats-server on the configuration WriteDir wrote, on a
// random port.
func startServer(t *testing.T) (Config, string) {
	t.Helper()
	c, err := Generate(seed.Apps, seed.SampleUsers, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := c.WriteDir(dir, "127.0.0.1:4222"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ConfFile, CredentialsFile} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want 0600", name, err, st.Mode())
		}
	}
	if err := c.WriteDir(dir, "127.0.0.1:4222"); !errors.Is(err, ErrExists) {
		t.Fatalf("second WriteDir: %v, want ErrExists", err)
	}
	return c, serveConf(t, dir)
}

// serveConf runs a nats-server under dir's ConfFile, on a random port,
// until the test ends, and returns its URL.
func serveConf(t *testing.T, dir string) string {
	t.Helper()
	opts, err := server.ProcessConfigFile(filepath.Join(dir, ConfFile))
	if err != nil {
		t.Fatal(err)
	}
	opts.Port, opts.StoreDir, opts.NoLog, opts.NoSigs = -1, t.TempDir(), true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}

func connectAs(t *testing.T, c Config, url, principal string) *nats.Conn {
	t.Helper()
	cr, err := c.Lookup(principal)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, nats.UserInfo(cr.User, cr.Password), nats.Name("instagram:alice"),
		nats.CustomInboxPrefix(cr.InboxPrefix))
	if err != nil {
		t.Fatalf("connect as %s: %v", principal, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// echoIdentity answers every request on the service's subjects with the
// principal the service would read from it.
func echoIdentity(t *testing.T, nc *nats.Conn) {
	t.Helper()
	for _, subj := range []string{"crosstalk.cmd.>", "crosstalk.query.>", "crosstalk.admin.>"} {
		_, err := nc.Subscribe(subj, func(m *nats.Msg) {
			p, err := identity.FromRequestInfo(m.Header.Get(identity.RequestInfoHeader), identity.AdminAccount)
			if err != nil {
				_ = m.Respond([]byte("error: " + err.Error()))
				return
			}
			_ = m.Respond([]byte(string(p.Kind) + " " + p.String()))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

// The generated configuration carries each principal's identity to the
// service, whatever header or connection name the client sends, and NATS
// itself refuses the unauthenticated, the wrong app's subjects, and the
// stream's write API to the auditor.
func TestGeneratedConfiguration(t *testing.T) {
	c, url := startServer(t)
	echoIdentity(t, connectAs(t, c, url, PrincipalService))

	for principal, want := range map[string]string{
		"instagram:alice": "user instagram/instagram:alice",
		"instagram":       "app instagram/instagram-backend",
		"messenger:bob":   "user messenger/messenger:bob",
	} {
		nc := connectAs(t, c, url, principal)
		app, _, _ := strings.Cut(principal, ":")
		msg := nats.NewMsg("crosstalk.cmd." + app + ".message.send")
		msg.Header.Set(identity.RequestInfoHeader, `{"acc":"messenger","user":"messenger:bob"}`)
		r, err := nc.RequestMsg(msg, 2*time.Second)
		if err != nil || string(r.Data) != want {
			t.Errorf("%s: %v %q, want %q", principal, err, replyOf(r), want)
		}
		if r, err := nc.Request("crosstalk.query.inbox", nil, 2*time.Second); err != nil || string(r.Data) != want {
			t.Errorf("%s query: %v %q, want %q", principal, err, replyOf(r), want)
		}
	}
	adm := connectAs(t, c, url, PrincipalAdmin)
	if r, err := adm.Request("crosstalk.admin.policy.publish", nil, 2*time.Second); err != nil || string(r.Data) != "admin ADMIN/admin" {
		t.Errorf("admin: %v %q", err, replyOf(r))
	}

	refused(t, connectAs(t, c, url, "instagram"), "crosstalk.cmd.messenger.message.send")
	refused(t, connectAs(t, c, url, "instagram:alice"), "crosstalk.events.conv.x")
	refused(t, connectAs(t, c, url, "instagram"), "crosstalk.admin.policy.publish")
	refused(t, connectAs(t, c, url, PrincipalAuditor), "$JS.API.STREAM.PURGE.CROSSTALK")
	refused(t, connectAs(t, c, url, PrincipalAuditor), "crosstalk.events.conv.x")

	if nc, err := nats.Connect(url); err == nil {
		nc.Close()
		t.Error("an unauthenticated connection was accepted")
	}
}

func replyOf(m *nats.Msg) string {
	if m == nil {
		return ""
	}
	return string(m.Data)
}

// refused checks that NATS refuses nc's publish on subject with a
// permissions violation.
func refused(t *testing.T, nc *nats.Conn, subject string) {
	t.Helper()
	errs := make(chan error, 1)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case errs <- err:
		default:
		}
	})
	if err := nc.Publish(subject, nil); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) && !strings.Contains(err.Error(), "Permissions Violation") {
			t.Errorf("publish on %s: %v, want a permissions violation", subject, err)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("publish on %s was not refused", subject)
	}
}

// credentials.json round-trips, and each principal has a context line.
func TestCredentialsAndContexts(t *testing.T) {
	c, err := Generate([]string{"instagram"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := c.WriteDir(dir, "127.0.0.1:4222"); err != nil {
		t.Fatal(err)
	}
	back, err := ReadCredentials(filepath.Join(dir, CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(c.Credentials)
	b, _ := json.Marshal(back.Credentials)
	if string(a) != string(b) {
		t.Fatalf("credentials changed on the way:\n%s\n%s", a, b)
	}
	lines := c.ContextCommands("nats://127.0.0.1:4222", "")
	if len(lines) != len(c.Credentials) || !strings.Contains(lines[3], "crosstalk-instagram --server") {
		t.Fatalf("context lines: %q", lines)
	}
	if _, err := Generate([]string{"instagram", "instagram"}, nil, nil); err == nil {
		t.Error("an app named twice was accepted")
	}
	if _, err := Generate([]string{"Bad App"}, nil, nil); err == nil {
		t.Error("an invalid app name was accepted")
	}
}

// A password that begins with '-' stays the value of its flag in the
// printed line (`nats context save … --password '-x'` fails: the CLI reads
// -x as a flag).
func TestContextCommandsKeepADashedPasswordAValue(t *testing.T) {
	c := Config{Credentials: []Credential{{Principal: "admin", User: "admin", Password: "-dash_first", InboxPrefix: "_INBOX.admin"}}}
	lines := c.ContextCommands("nats://127.0.0.1:4222", "")
	if len(lines) != 1 || !strings.Contains(lines[0], " --password='-dash_first' ") {
		t.Fatalf("context line: %q", lines)
	}
}

// The service's credentials are found in a generated configuration; a file
// without them says what to do.
func TestServiceCredential(t *testing.T) {
	c, err := Generate(seed.Apps, seed.SampleUsers, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := c.WriteDir(dir, "127.0.0.1:4222"); err != nil {
		t.Fatal(err)
	}
	got, err := ServiceCredential(filepath.Join(dir, ConfFile))
	want, _ := c.Lookup(PrincipalService)
	if err != nil || got.User != want.User || got.Password != want.Password {
		t.Errorf("ServiceCredential: %+v, %v; want %+v", got, err, want)
	}
	other := filepath.Join(dir, "other.conf")
	if err := os.WriteFile(other, []byte("authorization { user: a, password: b }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ServiceCredential(other); !errors.Is(err, ErrNoServiceUser) {
		t.Errorf("a file without a service user: %v, want ErrNoServiceUser", err)
	}
	if u := (Config{TLS: TLSFiles{Cert: "c"}}).URL("0.0.0.0:4222"); u != "tls://127.0.0.1:4222" {
		t.Errorf("URL with TLS on a wildcard host: %s", u)
	}
}
