package authcallout_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/crosstalk-dev/crosstalk/authcallout"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/node/nodetest"
)

// world is a crosstalk node under a configuration `auth init --callout`
// would write, with the callout running.
type world struct {
	node *node.Node
	cfg  natsconf.Config
	dir  string
	url  string
}

// newWorld starts the node and the callout; both stop when the test ends.
func newWorld(t testing.TB) *world {
	t.Helper()
	return newWorldWith(t, func(conf string) string { return conf })
}

// newWorldWith is newWorld with the written nats.conf changed by edit.
func newWorldWith(t testing.TB, edit func(conf string) string) *world {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	w := &world{dir: filepath.Join(t.TempDir(), "auth")}
	w.cfg = writeCalloutConfig(t, w.dir)
	conf := filepath.Join(w.dir, natsconf.ConfFile)
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(edit(string(data))), 0o600); err != nil {
		t.Fatal(err)
	}
	n := nodetest.Run(ctx, t, node.Options{Dir: filepath.Join(t.TempDir(), "data"), Listen: "127.0.0.1:0",
		Logger: testkit.Quiet(), NatsConfig: filepath.Join(w.dir, natsconf.ConfFile)})
	w.node, w.url = n, n.Conn().ConnectedUrl()
	w.runCallout(t)
	return w
}

// writeCalloutConfig writes what `auth init --callout` writes for the
// seed's apps into dir.
func writeCalloutConfig(t testing.TB, dir string) natsconf.Config {
	t.Helper()
	issuer, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := issuer.PublicKey()
	c, err := natsconf.Generate(seed.Apps, seed.SampleUsers, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = c.WithCallout(pub, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteDir(dir, "127.0.0.1:4222"); err != nil {
		t.Fatal(err)
	}
	if err := authcallout.WriteKeyFiles(dir, issuer, seed.Apps); err != nil {
		t.Fatal(err)
	}
	return c
}

// runCallout runs the callout as `crosstalk auth callout --dir` would,
// until the test ends, and waits until it listens.
func (w *world) runCallout(t testing.TB) {
	t.Helper()
	cr, err := w.cfg.Lookup(natsconf.PrincipalCallout)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := node.ConnectWith(w.url, "callout", node.Credentials{User: cr.User, Password: cr.Password})
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := authcallout.ReadSeed(filepath.Join(w.dir, authcallout.IssuerSeedFile))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := authcallout.ReadKeys(filepath.Join(w.dir, authcallout.KeysFile))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- authcallout.Run(ctx, authcallout.Options{Conn: nc, Issuer: issuer, Keys: keys,
			Logger: testkit.Quiet(), Ready: func() { close(ready) }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		nc.Close()
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("callout: %v", err)
	}
}

// appKey is app's signing key, as its backend holds it.
func (w *world) appKey(t testing.TB, app string) nkeys.KeyPair {
	t.Helper()
	kp, err := authcallout.ReadSeed(filepath.Join(w.dir, authcallout.AppSeedFile(app)))
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// token mints a token for account with its app's key, valid for ttl.
func (w *world) token(t testing.TB, account string, ttl time.Duration) string {
	t.Helper()
	a := events.Account(account)
	tok, err := authcallout.Mint(w.appKey(t, string(a.App())), a, ttl, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// device connects with token as a device would, with the end user's inbox
// prefix; the channel receives its asynchronous errors (permission
// violations).
func (w *world) device(t testing.TB, account, token string) (*nats.Conn, chan error, error) {
	t.Helper()
	errs := make(chan error, 16)
	nc, err := nats.Connect(w.url, nats.Token(token), nats.Name("instagram:eve"), nats.NoReconnect(),
		nats.CustomInboxPrefix(authcallout.InboxPrefix(events.Account(account))),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default:
			}
		}))
	if err != nil {
		return nil, errs, err
	}
	t.Cleanup(nc.Close)
	return nc, errs, nil
}

// isAuthViolation reports a connection refused by the server's
// authorization.
func isAuthViolation(err error) bool {
	return errors.Is(err, nats.ErrAuthorization)
}
