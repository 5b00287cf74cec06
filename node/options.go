package node

import (
	"log/slog"
	"time"

	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/service"
)

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
	// Unsealed writes message content in clear, as every node did before
	// sealing existed (docs/erasure.md), and opens no keyring: for
	// histories that must be the same bytes in every run (the golden
	// files of the audit reports). serve has no flag for it.
	Unsealed bool
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
	// DurableFeeds keeps durable feeds (docs/feeds.md, "Durable feeds for
	// app backends"): the views also keep each notification, without its
	// text and but presence, in its app's stream CROSSTALK_FEED_<app> (the
	// apps of NatsConfig and Intake.Apps, or the seed's in development
	// mode), and each app account of NatsConfig gets a copy of its own.
	// Default: off. Each durable note is a JetStream write (about 13 µs),
	// and a conversation started with thousands of participants writes
	// thousands: an operator turns them on for the apps' backends that
	// need them, knowing the cost.
	DurableFeeds bool
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
