package bench

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/feed"
	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/internal/broker"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// env is where a run happens: the broker, the temporary directory, the
// event log, and every connection opened, closed together at the end.
type env struct {
	opts   Options
	srv    *server.Server // nil with Options.NatsURL
	url    string
	dir    string // temporary root, removed by close
	nc     *nats.Conn
	js     jetstream.JetStream
	log    *eventlog.Log
	mu     sync.Mutex
	conns  []*nats.Conn
	stores []*projector.Store
	// ids is the identity configuration the embedded broker runs; nil with
	// Options.NatsURL, where the *_auth figures are not measured.
	ids *natsconf.Config
	// durable runs the embedded broker with SyncAlways and the stores
	// with SyncEveryBatch, as serve --sync-always does.
	durable bool
}

// envKind is what sets an env apart: a durable broker, a partitioned log
// (partitions > 1; both embedded only).
type envKind struct {
	durable    bool
	partitions int
}

// startEnv starts the embedded broker or checks the given one, and opens the
// stream CROSSTALK. A durable env's broker is always embedded.
func startEnv(ctx context.Context, opts Options, kind envKind) (e *env, err error) {
	durable := kind.durable
	dir, err := os.MkdirTemp(opts.Dir, "crosstalk-bench-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	if durable || kind.partitions > 1 {
		opts.NatsURL = ""
	}
	e = &env{opts: opts, dir: dir, url: opts.NatsURL, durable: durable}
	defer func() {
		if err != nil {
			err = errors.Join(err, e.close())
		}
	}()
	if e.url == "" {
		if err := e.startBroker(); err != nil {
			return e, err
		}
	}
	if e.nc, err = e.connect("crosstalk bench"); err != nil {
		return e, err
	}
	if e.js, err = jetstream.New(e.nc); err != nil {
		return e, err
	}
	if opts.NatsURL != "" {
		if err := e.refuseExisting(ctx); err != nil {
			return e, err
		}
	}
	// Sign every append, as a node does (serve keeps its key in the data
	// directory): the command figures include the ed25519 signature.
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		return e, err
	}
	e.log, err = eventlog.Open(ctx, e.js, eventlog.Options{Logger: opts.Logger, Signer: events.NewSigner(key), Partitions: kind.partitions,
		GroupCommit: kind.durable})
	return e, err
}

// startBroker starts the embedded broker under an identity configuration
// of the workloads' apps, generated into the temporary directory: the
// service and every figure but the *_auth ones connect as the service
// principal, inside the account that holds the streams, as an open server's
// clients would be; the *_auth figures connect as an app, through the
// service import.
func (e *env) startBroker() error {
	ids, err := natsconf.Generate([]string{string(appA), string(appB)}, nil, nil)
	if err != nil {
		return err
	}
	ids.Limits = connectionLimits(e.opts.Clients)
	authDir := filepath.Join(e.dir, "auth")
	if err := ids.WriteDir(authDir, "127.0.0.1:0"); err != nil {
		return err
	}
	e.srv, err = broker.Start(broker.Options{Listen: "127.0.0.1:0", ConfigFile: filepath.Join(authDir, natsconf.ConfFile),
		JetStreamDir: node.Layout{Dir: e.dir}.JetStream(), SyncAlways: e.durable})
	if err != nil {
		return err
	}
	e.url, e.ids = e.srv.ClientURL(), &ids
	return nil
}

// refuseExisting refuses a server that already has the streams the bench
// writes: it cannot remove what it would add to CROSSTALK (DenyPurge), and
// must not mix its figures with someone else's data.
func (e *env) refuseExisting(ctx context.Context) error {
	for _, name := range []string{events.StreamName, intake.AppStream(string(appA)), rawStream, occStream} {
		_, err := e.js.Stream(ctx, name)
		switch {
		case err == nil:
			return fmt.Errorf("the server at %s already has the stream %s; the bench writes hundreds of thousands "+
				"of events and cannot purge them, so it runs only where %s does not exist: use a throwaway server, "+
				"or leave out --nats-url to run on an embedded one", e.url, name, name)
		case !errors.Is(err, jetstream.ErrStreamNotFound):
			return fmt.Errorf("look for stream %s at %s: %w", name, e.url, err)
		}
	}
	return nil
}

// connect opens a NATS connection that close closes: with
// Options.Credentials on a given server, as the service principal on the
// embedded one.
// A service's connection reads through package headerguard, as serve's
// does, so that the figures include the guard.
func (e *env) connect(name string) (*nats.Conn, error) {
	creds := e.opts.Credentials
	if e.ids != nil {
		cr, err := e.ids.Lookup(natsconf.PrincipalService)
		if err != nil {
			return nil, err
		}
		creds = node.Credentials{User: cr.User, Password: cr.Password}
	}
	guard, err := creds.Guard()
	if err != nil {
		return nil, err
	}
	return e.connectWith(name, creds, guard)
}

// connectAs connects as principal of the embedded broker's configuration.
func (e *env) connectAs(principal, name string) (*nats.Conn, error) {
	cr, err := e.ids.Lookup(principal)
	if err != nil {
		return nil, err
	}
	return e.connectWith(name, node.CredentialsOf(cr))
}

// connectionLimits are the generated configuration's limits, with room
// for clients connections of the service and of an app besides the
// bench's own: --clients may ask for more than a deployment allows.
func connectionLimits(clients int) natsconf.Limits {
	l := natsconf.DefaultLimits
	l.Service.MaxConnections = max(l.Service.MaxConnections, clients+64)
	l.App.MaxConnections = max(l.App.MaxConnections, clients+64)
	return l
}

func (e *env) connectWith(name string, creds node.Credentials, opts ...nats.Option) (*nats.Conn, error) {
	nc, err := node.ConnectWith(e.url, name, creds, append(opts, nats.MaxReconnects(-1))...)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.conns = append(e.conns, nc)
	e.mu.Unlock()
	return nc, nil
}

// connectMany opens n client connections with connect.
func (e *env) connectMany(n int, name string, connect func(name string) (*nats.Conn, error)) ([]*nats.Conn, error) {
	conns := make([]*nats.Conn, n)
	for i := range conns {
		nc, err := connect(fmt.Sprintf("%s %d", name, i))
		if err != nil {
			return nil, err
		}
		conns[i] = nc
	}
	return conns, nil
}

// openStore opens a fresh Pebble store in its own directory; close closes it
// unless it was closed before. feeds, when not nil, receives its live
// notifications (projector.Options.Feeds).
func (e *env) openStore(name string, feeds projector.Feeds) (*projector.Store, error) {
	dir, err := os.MkdirTemp(e.dir, name+"-")
	if err != nil {
		return nil, err
	}
	o := projector.Options{Dir: dir, Logger: e.opts.Logger, SyncEveryBatch: e.durable, Feeds: feeds}
	if e.log.Partitions() > 1 {
		o.Streams = len(e.log.Streams())
	}
	st, err := projector.Open(o)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.stores = append(e.stores, st)
	e.mu.Unlock()
	return st, nil
}

// feeds returns a feed publisher on a connection of its own, as a node
// publishes its views' notifications.
func (e *env) feeds(name string) (*feed.Feed, error) {
	nc, err := e.connect(name)
	if err != nil {
		return nil, err
	}
	return feed.New(nc), nil
}

// close closes every connection and store, stops the embedded server and
// removes the temporary directory. Closing a store twice is harmless.
func (e *env) close() error {
	var errs []error
	for _, nc := range e.conns { // e.nc among them
		nc.Close()
	}
	for _, st := range e.stores {
		errs = append(errs, st.Close())
	}
	if e.srv != nil {
		e.srv.Shutdown()
		e.srv.WaitForShutdown()
	}
	errs = append(errs, os.RemoveAll(e.dir))
	return errors.Join(errs...)
}

// describe records where the run happens.
func describe(opts Options, e *env) Environment {
	nats := "embedded nats-server " + server.VERSION + " under a generated identity configuration"
	ids := fmt.Sprintf("%s and %s as the app principal of %s through the service import, the service enforcing "+
		"identities; every other figure as the service principal", figSendAuth, figQueryAuth, appA)
	if opts.NatsURL != "" {
		nats = opts.NatsURL + " (nats-server " + e.nc.ConnectedServerVersion() + ")"
		ids = fmt.Sprintf("%s and %s skipped: they need the embedded broker under a generated identity configuration, "+
			"and --nats-url was given", figSendAuth, figQueryAuth)
	}
	durable := fmt.Sprintf("%s on a second embedded broker with SyncAlways, its views synced every batch", figSendDurable)
	if opts.NatsURL != "" {
		durable = fmt.Sprintf("%s skipped: it needs an embedded broker of its own with SyncAlways, and --nats-url was given", figSendDurable)
	}
	env := newEnvironment(opts, nats)
	env.Identity, env.Durable = ids, durable
	return env
}
