package natsconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
)

// A configuration with a callout lists no end user; every principal it
// does list connects with its password without asking the callout (none
// runs here), and the callout's own user may only take authorization
// requests.
func TestCalloutConfiguration(t *testing.T) {
	issuer, _ := nkeys.CreateAccount()
	pub, _ := issuer.PublicKey()
	c, err := Generate(seed.Apps, seed.SampleUsers, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = c.WithCallout(pub, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WithCallout("not-a-key", nil); err == nil {
		t.Error("a bad issuer was accepted")
	}
	for _, cr := range c.Credentials {
		if cr.Kind == string(identity.KindUser) {
			t.Errorf("end user %s in a callout configuration", cr.Principal)
		}
	}
	url := startConf(t, c)
	if srv := server.AuthCalloutSubject; srv != "$SYS.REQ.USER.AUTH" {
		t.Fatalf("the server's callout subject is %s", srv)
	}
	for _, principal := range []string{PrincipalService, PrincipalAuditor, PrincipalAdmin, "instagram", "messenger", PrincipalCallout} {
		connectAs(t, c, url, principal)
	}
	callout := connectAs(t, c, url, PrincipalCallout)
	refused(t, callout, "crosstalk.cmd.instagram.conversation.start")
	if _, err := nats.Connect(url, nats.Token("anything"), nats.Timeout(5*time.Second)); err == nil {
		t.Error("a device was let in with no callout running")
	}
}

// startConf runs nats-server on c's configuration file.
func startConf(t *testing.T, c Config) string {
	t.Helper()
	dir := t.TempDir()
	if err := c.WriteDir(dir, "127.0.0.1:4222"); err != nil {
		t.Fatal(err)
	}
	conf, _ := os.ReadFile(filepath.Join(dir, ConfFile))
	if !strings.Contains(string(conf), "auth_callout") {
		t.Fatalf("no auth_callout block:\n%s", conf)
	}
	return serveConf(t, dir)
}
