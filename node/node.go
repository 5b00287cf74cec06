package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

// Options say where a node keeps its data, how it finds NATS and how it
// runs. The zero value is a node on DefaultDir with an embedded server on
// DefaultListen.
type Options struct {
	// Dir is the data directory (see Layout), created if missing.
	// Default: DefaultDir.
	Dir string
	// NatsURL is an external NATS server to use; empty starts an embedded
	// nats-server with its files in Layout.JetStream.
	NatsURL string
	// Listen is the embedded server's client address, host:port; port 0
	// picks a free one. Default: DefaultListen, or the configuration
	// file's with NatsConfig. Unused with NatsURL.
	Listen string
	// NatsConfig is a nats-server configuration file (as `crosstalk auth
	// init` writes) for the embedded server: its accounts, users and TLS
	// apply, the service enforces identities, and the node connects as the
	// file's service user unless Credentials say otherwise. Its JetStream
	// store directory is replaced by Layout.JetStream. Not with NatsURL.
	NatsConfig string
	// Credentials are how the node authenticates to NATS. Any credentials
	// make the service enforce identities. Without them and without
	// NatsConfig the node runs in development mode (see DevelopmentMode).
	Credentials Credentials
	// Insecure lets a node in development mode listen on a non-loopback
	// address, where anyone who reaches it may act as any account.
	Insecure bool
	// Replicas is how many copies of the streams (the events and the
	// refused commands) a JetStream cluster keeps: a new stream is created
	// with it, an existing one must have it (eventlog.ErrReplicationMismatch
	// otherwise). 3 on a cluster (with NatsURL); more than 1 needs one.
	// Default: 0, a new stream gets 1 and an existing one is used as it is.
	Replicas int
	// PlacementTags place new streams on the cluster's servers that carry
	// every tag, and must be an existing stream's placement tags. Default:
	// none, and existing streams are used as they are placed.
	PlacementTags []string
	// Partitions is the number of streams the log spreads conversations
	// and accounts over (eventlog.Options.Partitions), fixed when the
	// streams are created: 1 is the single stream CROSSTALK; N > 1
	// CROSSTALK_P0 … CROSSTALK_P{N-1} and CROSSTALK_POLICY. Default 0:
	// the existing log's number, else 1.
	Partitions int
	// SyncAlways fsyncs every JetStream write (embedded server only) before
	// it is acknowledged, and every batch of the views; the log then
	// commits concurrent appends in shared batches, one fsync each
	// (eventlog.Options.GroupCommit).
	SyncAlways bool
	// ViewsCacheSize is the size in bytes of Pebble's block cache.
	// Default: projector's (64 MiB). The aggregates the service keeps in
	// memory are bounded by Service.CacheSize.
	ViewsCacheSize int64
	// SigningKey is a file with the ed25519 key (PEM, PKCS #8) the node
	// signs every event it appends with; it must exist. Default:
	// Layout.SigningKey, created on the first start.
	SigningKey string
	// MasterKey is a file with the master key (64 hex digits, mode 0600)
	// that wraps the keys sealing message content; it must exist, and be
	// the same file on every node of a cluster. Default:
	// Layout.MasterKey, created on the first start.
	MasterKey string
	// Name is the name of the node's NATS connection. Default: "crosstalk".
	Name string
	// Logger receives the node's logs. Default: slog.Default().
	Logger *slog.Logger
	// Service tunes the service. Its Logger and Rejections are the node's:
	// Start sets them.
	Service service.Options
	// Intake tunes the durable intake (docs/intake.md): its window, batch,
	// workers, limits and apps. Its Replicas, PlacementTags, Logger and
	// Observer are the node's: Start sets them. Its Apps get the app
	// accounts of NatsConfig added; in development mode, when none is
	// named, they are the seed's apps (internal/seed.Apps).
	Intake intake.Options
	// LeaseTTL is how long a singleton's lease lives without a renewal
	// (lease.Options.TTL): a node killed with -9 hands its singletons
	// over within about twice this. Default: lease.DefaultTTL (5s).
	LeaseTTL time.Duration
	// JetStreamWait is how long Start waits for JetStream to answer before
	// it opens anything: a cluster just started has no meta leader for a
	// few seconds. Default: DefaultJetStreamWait (30s).
	JetStreamWait time.Duration
	// DisableFeeds publishes no live feeds (docs/feeds.md); by default the
	// views publish each account's notifications on
	// crosstalk.feed.<app>.<handle> after each committed batch.
	DisableFeeds bool
	// DisableDurableFeeds keeps no durable feeds (docs/feeds.md, "Durable
	// feeds for app backends"); by default the views also keep each
	// notification, without its text, in its app's stream
	// CROSSTALK_FEED_<app> (the apps of NatsConfig and Intake.Apps, or the
	// seed's in development mode), and each app account of NatsConfig
	// gets a copy of its own.
	DisableDurableFeeds bool
	// DurableFeedsMaxAge is how long the durable feeds keep a
	// notification. Default: feed.DefaultMaxAge (7 days).
	DurableFeedsMaxAge time.Duration
	// NodeID names the node: in every reply's Crosstalk-Node header, its
	// micro metadata, its status, its own admin subjects
	// crosstalk.admin.node.<id>.* and the leases it holds. It must be
	// [a-z0-9][a-z0-9-]{0,31} (ErrBadNodeID). Given, it is kept in
	// Layout.NodeID for later starts. Default: the one kept there, else
	// "n-" and 8 random hex digits, generated once and kept.
	NodeID string
	// Roles are what the node runs (docs/operations.md, "Node ids and
	// roles"): without RoleQueries and RoleCloser it opens no read model,
	// runs no projector and publishes no feeds; without RoleQueries it
	// answers no query; without RoleCommands no command. With RoleCloser
	// and RoleIntake it contends for the leases "closer" and "intake" and
	// runs each singleton while it holds its lease (docs/reliability.md,
	// "Singletons and fencing"); without RoleIntake the intake streams and
	// the outcomes are still set up, and their commands wait for a node
	// that holds the lease. Default: AllRoles.
	Roles Roles
}

// ensureDefaults fills every zero field with its default.
func (o *Options) ensureDefaults() {
	if o.Dir == "" {
		o.Dir = DefaultDir
	}
	if o.Listen == "" && o.NatsConfig == "" {
		o.Listen = DefaultListen
	}
	if o.Name == "" {
		o.Name = "crosstalk"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if len(o.Roles) == 0 {
		o.Roles = AllRoles
	}
	if o.JetStreamWait <= 0 {
		o.JetStreamWait = DefaultJetStreamWait
	}
}

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
	snapshots  *snapshots.Store
	keys       *keyring.Ring
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
		return nil, errors.Join(err, n.Close())
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
