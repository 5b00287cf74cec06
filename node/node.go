package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"golang.org/x/sync/errgroup"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/internal/broker"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/metrics"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
	"github.com/crosstalk-dev/crosstalk/snapshots"
)

// DefaultListen is the client address of the embedded nats-server.
const DefaultListen = "127.0.0.1:4222"

// drainTimeout bounds how long Close waits for the connection to drain
// before it closes it anyway.
const drainTimeout = 10 * time.Second

// Node is one started crosstalk: the embedded broker (unless external),
// the connection, the event log and the log of refused commands, the read
// model and the service. The caller runs it (Run or Background) and closes
// it (Close).
type Node struct {
	id     string
	layout Layout
	logger *slog.Logger
	srv    *server.Server
	nc     *nats.Conn
	log    *eventlog.Log
	// snapshots keeps conversation snapshots and message records.
	snapshots *snapshots.Store
	keys      *keyring.Ring
	// made are the key files this start created: a refused start removes
	// them (unmake), leaving the data directory as it found it, so that a
	// retry with the right flags does not sign under a key nobody kept.
	made       []string
	rejections *eventlog.Rejections
	// mu guards store and storeDir, which an online rebuild replaces
	// (rebuild.go).
	mu       sync.Mutex
	store    *projector.Store
	storeDir string
	svc      *service.Service
	metrics  *metrics.Registry
	// intake is the durable intake's JetStream side; consumer decides it,
	// nil without RoleIntake.
	intake   *intake.Intake
	consumer *intake.Consumer
	// singletons are the leases of the closer and the intake, nil each
	// without its role (singletons.go).
	singletons singletons
	// dirLock is the lock on the data directory of a node without views
	// (Layout.lockDir); nil otherwise, the store holding the lock.
	dirLock io.Closer
	// closed is closed by the NATS client once a drain has finished.
	closed chan struct{}
}

// Start starts a node: it refuses a data directory another node runs on
// (ErrInUse), starts the embedded broker or connects to Options.NatsURL,
// creates or checks the streams, opens the views and builds the service.
// The service does not run until Run or Background. It refuses options
// Options.Validate refuses, every violation at once.
func Start(ctx context.Context, o Options) (*Node, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.ensureDefaults()
	if err := o.applyIdentity(); err != nil {
		return nil, err
	}
	o.logIdentity()
	n := &Node{layout: Layout{Dir: o.Dir}, logger: o.Logger}
	n.metrics = n.newMetrics()
	if err := privateDataDir(o.Dir, o.Logger); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := n.layout.CheckStopped(); err != nil {
		return nil, err
	}
	id, err := n.layout.resolveNodeID(o.NodeID)
	if err != nil {
		return nil, err
	}
	o.NodeID, n.id = id, id
	if !o.Roles.needsViews() {
		if n.dirLock, err = n.layout.lockDir(); err != nil {
			return nil, err
		}
	}
	if did, err := n.layout.settleViews(); err != nil {
		return nil, fmt.Errorf("views of %s: %w", o.Dir, err)
	} else if did != "" {
		o.Logger.Warn("views: "+did, slog.String("dir", o.Dir))
	}
	if err := n.connect(o); err != nil {
		return nil, errors.Join(err, n.Close())
	}
	if err := n.open(ctx, o); err != nil {
		return nil, errors.Join(err, n.Close(), n.unmake())
	}
	o.Service.Logger = o.Logger
	o.Service.Rejections = n.rejections
	o.Service.Observer = n.metrics
	o.Service.Rebuilds = rebuilds{n: n, opts: n.viewsOptions(o)}
	o.Service.Outcomes = n.intake
	if o.Service.Snapshots == nil {
		o.Service.Snapshots = n.snapshots
	}
	o.Service.CloserLease = n.singletons.closerHolding()
	if n.keys != nil {
		o.Service.Keys, o.Service.Opener = n.keys, keysOpener{n.keys}
	}
	o.Service.NodeID, o.Service.Roles = o.NodeID, o.Roles.Strings()
	n.svc = service.New(n.nc, n.log, n.store, o.Service)
	if n.singletons.intake != nil {
		n.consumer = n.intake.Consumer(n.svc)
	}
	return n, nil
}

// connect starts the embedded broker unless NatsURL is set, and connects.
func (n *Node) connect(o Options) error {
	url := o.NatsURL
	if url == "" {
		if err := n.layout.checkAccount(o.NatsConfig != ""); err != nil {
			return err
		}
		srv, err := broker.Start(broker.Options{Listen: o.Listen, ConfigFile: o.NatsConfig,
			JetStreamDir: n.layout.JetStream(), SyncAlways: o.SyncAlways})
		if err != nil {
			return err
		}
		n.srv = srv
		url = srv.ClientURL()
		o.Logger.Info("embedded nats-server listening", slog.String("url", url),
			slog.String("jetstream_dir", n.layout.JetStream()))
	}
	guard, err := o.Credentials.Guard()
	if err != nil {
		return err
	}
	n.closed = make(chan struct{})
	nc, err := ConnectWith(url, o.Name, o.Credentials, nats.MaxReconnects(-1), guard,
		nats.ClosedHandler(func(*nats.Conn) { close(n.closed) }))
	n.nc = nc
	if err != nil {
		return err
	}
	return o.checkServerAuth(nc)
}

// setStore records the store the node's views are now in, after an online
// rebuild replaced them.
func (n *Node) setStore(st *projector.Store, dir string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.store, n.storeDir = st, dir
}

// liveDir is the directory of the store the service reads now.
func (n *Node) liveDir() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.storeDir
}

// ID is the node's id (Options.NodeID).
func (n *Node) ID() string { return n.id }

// Layout is where the node keeps its files.
func (n *Node) Layout() Layout { return n.layout }

// Conn is the node's NATS connection, which the service serves on.
func (n *Node) Conn() *nats.Conn { return n.nc }

// Log is the event log, the stream CROSSTALK.
func (n *Node) Log() *eventlog.Log { return n.log }

// Keys is the keyring that seals message content (docs/erasure.md).
func (n *Node) Keys() *keyring.Ring { return n.keys }

// Rejections is the log of refused commands, the stream CROSSTALK_AUDIT.
func (n *Node) Rejections() *eventlog.Rejections { return n.rejections }

// Store is the read model, the Pebble views: after an online rebuild,
// the rebuilt store; nil for a node without one (Options.Roles).
func (n *Node) Store() *projector.Store {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.store
}

// Service is the node's service.
func (n *Node) Service() *service.Service { return n.svc }

// Run serves until ctx is done and, with their roles, contends for the
// leases of the closer and the intake (singletons.go): the closer applies
// policies and the consumer decides the durable intake while this node
// holds their leases, the consumer once the service is ready. It does not
// close the node.
func (n *Node) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return n.svc.Run(gctx) })
	n.singletons.run(gctx, g, n.svc.Ready(), n.consumer)
	return g.Wait()
}

// Intake is the durable intake: its stream, consumer and outcomes.
func (n *Node) Intake() *intake.Intake { return n.intake }

// Background runs the node in a goroutine until the returned stop is
// called, and returns once its endpoints answer. stop cancels the run,
// waits for it, closes the node and returns every error. If the service
// fails before it is ready, Background closes the node and returns the
// failure.
func (n *Node) Background(ctx context.Context) (stop func() error, err error) {
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(runCtx) }()
	select {
	case <-n.svc.Ready():
	case err := <-done:
		cancel()
		return nil, errors.Join(fmt.Errorf("service stopped before it was ready: %w", err), n.Close())
	}
	return func() error {
		cancel()
		return errors.Join(<-done, n.Close())
	}, nil
}

// Close drains the connection, closes the views and stops the embedded
// broker, in that order, so nothing acknowledged is left unflushed. Call it
// once, after Run has returned.
func (n *Node) Close() error {
	var errs []error
	if n.nc != nil {
		if err := n.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, err)
		}
		select {
		case <-n.closed:
		case <-time.After(drainTimeout):
			n.nc.Close()
		}
	}
	if st := n.Store(); st != nil {
		errs = append(errs, st.Close())
	}
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
	}
	if n.dirLock != nil {
		errs = append(errs, n.dirLock.Close())
	}
	return errors.Join(errs...)
}

// unmake removes the key files this start created.
func (n *Node) unmake() error {
	var errs []error
	for _, p := range n.made {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
