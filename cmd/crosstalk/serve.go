package main

import (
	"io"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/serving"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/feed"
	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/lease"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/service"
)

func newServeCommand(stdout, stderr io.Writer) *cobra.Command {
	sf := &serving.Flags{RunIntake: true, RunFeeds: true, LogFormat: serving.LogText}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the crosstalk service (embedded NATS by default)",
		Long:  serveLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := serveContext(sf); err != nil {
				return err
			}
			return sf.Serve(cmd.Context(), stderr, cmd.Flags().Changed("listen"))
		},
	}
	register(sf, cmd)
	return cmd
}

// register declares the flags on cmd.
func register(sf *serving.Flags, cmd *cobra.Command) {
	cfg := &sf.Node
	f := cmd.Flags()
	f.StringVar(&cfg.Dir, "data", node.DefaultDir, "directory for the Pebble read model and the embedded JetStream files")
	f.StringVar(&cfg.NodeID, "node-id", "", "this node's name, [a-z0-9][a-z0-9-]{0,31}: in every reply's Crosstalk-Node header, the status and crosstalk.admin.node.<id>.*; kept in DIR/node-id (default: the one kept there, else generated once)")
	f.StringVar(&sf.Roles, "roles", node.AllRoles.String(), "what this node runs, comma-separated: commands (command endpoints), queries (read model, queries, feeds), closer (policy closer; keeps a read model), intake (durable intake consumer)")
	f.StringVar(&cfg.Listen, "listen", node.DefaultListen, "client address of the embedded nats-server (host:port)")
	f.StringVar(&cfg.NatsURL, "nats-url", "", "use this NATS server instead of the embedded one (e.g. nats://127.0.0.1:4222; a cluster's URLs comma-separated)")
	f.StringVar(&cfg.NatsConfig, "nats-config", "", "run the embedded nats-server with this configuration file and enforce identities (see 'crosstalk auth init')")
	f.BoolVar(&cfg.Insecure, "insecure", false, "without authentication, listen on a non-loopback --listen, or use a --nats-url beyond loopback or one that requires authentication, anyway: anyone who reaches it may act as any account")
	f.StringVar(&cfg.Credentials.Context, "context", "", "use the NATS server and credentials of this nats CLI context instead of the embedded server "+
		"(only when given: $NATS_CONTEXT does not turn serve away from its embedded server)")
	addSecretFlags(f, &cfg.Credentials)
	cmd.MarkFlagsMutuallyExclusive("nats-config", "nats-url")
	f.IntVar(&cfg.Partitions, "partitions", 0, "streams the log spreads conversations and accounts over, fixed when they are created: 1 is the stream CROSSTALK; N > 1 CROSSTALK_P0..P{N-1} and CROSSTALK_POLICY; 0 takes the existing log's number, else 1")
	f.IntVar(&cfg.Replicas, "replicas", 0, "copies of the streams on a JetStream cluster (3 with --nats-url URL,URL,URL): created with it, or checked; 0 creates with 1 and takes existing streams as they are")
	f.StringSliceVar(&cfg.PlacementTags, "placement-tags", nil, "place new streams on the cluster's servers carrying all these tags (comma-separated); existing streams must have them")
	f.StringVar(&cfg.SigningKey, "signing-key", "", "sign events with the ed25519 key in this PEM file (default: DIR/signing.key, created on first start)")
	f.StringVar(&cfg.MasterKey, "master-key", "", "wrap the keys that seal message content with the master key in this file, the same on every node (default: DIR/master.key, created on first start; back it up apart from the streams)")
	f.BoolVar(&cfg.SyncAlways, "sync-always", false, "fsync every JetStream write before acknowledging it (embedded server only), and every batch of the views")
	f.IntVar(&sf.CacheSize, "cache-size", 100_000, "conversations (and, separately, accounts) whose state is kept in memory; bounds the service's memory")
	f.DurationVar(&sf.AppendTimeout, "append-timeout", service.DefaultAppendTimeout, "how long a command waits for the log (a leader, an ack) before it answers 503 unavailable, to be retried with the same command_id")
	f.StringArrayVar(&sf.Limits, "limit", nil, "a per-principal limit, KIND.CLASS=RATE/BURST/IN-FLIGHT (KIND user, app, admin or development; CLASS commands or queries; a number empty for its default, -1 for none), e.g. user.commands=20/40/16; repeatable")
	f.BoolVar(&sf.RunFeeds, "feeds", true, "publish each account's live notifications on crosstalk.feed.<app>.<handle> (docs/feeds.md)")
	f.DurationVar(&sf.DurableFeedsMaxAge, "durable-feeds-max-age", 0, "keep durable feeds: how long each app's stream CROSSTALK_FEED_<app> keeps a notification, without its text, for the app's backend to read with a durable consumer (docs/feeds.md), e.g. "+feed.DefaultMaxAge.String()+"; 0, the default, keeps none (each durable note is a JetStream write)")
	f.BoolVar(&sf.RunIntake, "intake", true, "deprecated: false runs the node without the intake role")
	_ = f.MarkHidden("intake")
	f.DurationVar(&cfg.JetStreamWait, "jetstream-wait", node.DefaultJetStreamWait, "how long serve waits at start for JetStream to answer (a cluster just started elects its meta leader first) before it gives up")
	f.DurationVar(&cfg.LeaseTTL, "lease-ttl", lease.DefaultTTL, "how long the lease of a singleton (the closer, the intake consumer) lives without a renewal; a node killed hands them over within about twice this")
	f.DurationVar(&cfg.Intake.Window, "intake-window", intake.DefaultWindow, "the intake's duplicate window, and how long crosstalk.query.command answers an intake command's outcome")
	f.IntVar(&cfg.Intake.Batch, "intake-batch", intake.DefaultBatch, "intake messages fetched and decided in one batch at most")
	f.Int64Var(&cfg.Intake.AppLimit, "intake-app-limit", intake.DefaultAppLimit, "intake messages waiting in one app's stream CROSSTALK_INTAKE_<app> at most; the app's publish beyond is refused")
	f.Int64Var(&cfg.Intake.AppMaxBytes, "intake-app-max-bytes", intake.DefaultAppMaxBytes, "bytes one app's intake stream holds at most; the app's publish beyond is refused")
	f.StringSliceVar(&cfg.Intake.Apps, "intake-apps", nil, "apps whose intake streams to create (comma-separated), besides the app accounts of --nats-config (default: the seed's apps in development mode, none otherwise)")
	f.BoolVar(&sf.Debug, "debug", false, "log at debug level")
	f.StringVar(&sf.LogFormat, "log-format", serving.LogText, "log as text (for people) or json (for a log pipeline)")
	f.StringVar(&sf.Probe.Listen, "metrics", "", "serve /metrics (Prometheus), /healthz and /readyz on this address, e.g. 127.0.0.1:9464")
	f.Uint64Var(&sf.Probe.MaxLag, "ready-max-lag", node.DefaultReadyMaxLag, "/readyz fails while the read model is more than this many events behind the log")
}

// serveLong is serve's --help.
const serveLong = `serve runs crosstalk until SIGINT or SIGTERM: the command, query and admin
endpoints (a NATS micro service named "crosstalk"), the Pebble projector and the
policy scheduler.

By default it starts an embedded nats-server with JetStream, its client port on
--listen and its files under --data/jetstream; the read model lives under
--data/views (after an online rebuild, under --data/views.rebuild until the
next start moves it back; --data/views.current names the one in use). With --nats-url it uses an existing NATS server instead; the
stream CROSSTALK is created if missing and checked if present.

On a JetStream cluster give every server's URL, comma-separated, and
--replicas 3: the streams CROSSTALK and CROSSTALK_AUDIT are created with
three replicas (on the servers carrying --placement-tags, if given), or, if
they exist, checked: serve refuses to start and names each difference
rather than rescale them. Several serve processes may run on one cluster,
each with the defaults: they share the command endpoints, each keeps its
own read model under its own --data, and the singletons run on one node at
a time, each on the node holding its lease in the KV bucket
CROSSTALK_LEASES: "closer" (the policy closer) and "intake" (the intake
consumer). A lease lives --lease-ttl (5s) without a renewal: a node killed
with -9 hands them over within about twice that, one stopped cleanly at
once (docs/operations.md, docs/reliability.md).

--partitions N (N > 1) spreads the log over the streams CROSSTALK_P0 …
CROSSTALK_P{N-1}, by FNV-1a 32 of each conversation's or account's subject
modulo N, with the policy in CROSSTALK_POLICY: each stream is a Raft group
of its own, whose leader JetStream places, so writes spread over the
cluster. N is fixed when the streams are created; a restart learns it from
them (0, the default), and a different N is refused. The default, 1, is the
single stream CROSSTALK. On a partitioned log a reply's position names one
sequence per stream, which a query's after waits for; min_seq is refused;
audit, export, replay, the timelines and the auditor's mirrors do not read
it yet (docs/operations.md, "Partitions").

Identities: with --nats-config FILE (as 'crosstalk auth init' writes) the
embedded server runs that nats-server configuration (accounts, users, TLS;
--listen, when given, and --data still apply), the service connects as the
file's service user (the user of account CROSSTALK without permissions) and
checks every request against its authenticated caller. Against an existing
NATS, --creds FILE or --user/--password (and --tls-ca) connect as the service
principal, and identities are checked too; so do a user, password or token in
--nats-url, and $NATS_CREDS or $NATS_USER/$NATS_PASSWORD when no flag gives
credentials. Without any of these, serve runs in development mode: identities
are self-declared, it says so once in its log, it listens on loopback only,
and it refuses a --nats-url beyond loopback or a server that requires
authentication, unless --insecure. docs/security.md explains the model.

serve sets the garbage collector's target to 400% (see docs/performance-history.md)
unless GOGC is set, and a soft memory limit of 1 GiB unless GOMEMLIMIT is set
(docs/reliability.md, "Memory").

serve signs every event it appends with an ed25519 key: --signing-key FILE,
or DIR/signing.key (created, mode 0600, on the first start). Give auditors
its public key ('crosstalk audit public-key') for 'crosstalk audit verify
--public-key'; docs/audit.md says how to rotate it.

A command waits at most --append-timeout (2s) for the stream to acknowledge
its event; past it (the stream has no leader: an election, no quorum) it is
answered 503 unavailable, to be retried with the same command_id.

Each principal may send commands, and apart from them queries, at a rate
with a burst and with so many in flight, by kind of principal; past them a
request is answered 429 too_many_requests at once, with the header
Crosstalk-Retry-After-Ms when it is the rate. Defaults (--limit changes
one; docs/reliability.md):
  user         commands 20/s, burst 40, 16 in flight; queries 50/s, burst 200, 32
  app          commands 2000/s, burst 4000, 1024; queries 5000/s, burst 10000, 1024
  admin        commands 10/s, burst 20, 4; queries 100/s, burst 200, 32
  development  (each connection, without identities) as app
The service's own requests and the durable intake are not limited.

Each node has an id (--node-id; by default generated on the first start and
kept in DIR/node-id) and roles (--roles, all four by default): commands,
queries, closer, intake. Every reply carries the header Crosstalk-Node: <id>,
'nats micro info crosstalk' lists each node's id and roles, and
crosstalk.admin.node.<id>.status and .views.rebuild address one node
('crosstalk status --node ID', 'crosstalk views rebuild --node ID'). A node
without the queries and closer roles (e.g. --roles commands) opens no read
model under --data/views and answers no query; one with the closer role keeps
a read model to find what a policy closes (docs/operations.md).

serve always runs on the wall clock. The simulated clock of 'crosstalk demo'
exists for demos, tests and audits only.

With --metrics ADDR it serves Prometheus metrics on http://ADDR/metrics,
/healthz (the process is alive) and /readyz (503 while the stream is
unreachable, the projector is not running, the read model is more than
--ready-max-lag events behind, or the stream's configuration is wrong);
docs/operations.md lists the metrics.

The durable intake (docs/intake.md): a producer that cannot wait for a reply
publishes a command to JetStream on crosstalk.intake.<app>.<action>, its
Nats-Msg-Id header <app>.<command_id>, and moves on; serve decides it exactly once,
in order per conversation, and publishes the outcome on crosstalk.outcome.<app>;
crosstalk.query.command answers it for --intake-window. The app's intake
stream keeps what is published while no serve runs; of several serves, the
one holding the lease "intake" decides it.
Each app has a stream of its own, CROSSTALK_INTAKE_<app>, holding at most
--intake-app-limit messages and --intake-app-max-bytes bytes: the app's
publish beyond either is refused, and the other apps' are not. serve creates
the stream of each app of --nats-config and of --intake-apps, and serves
every CROSSTALK_INTAKE_* stream that exists; a publish for an app without a
stream gets an error (no responders).

Talk to it with any NATS client, e.g. the nats CLI:
  nats micro ls
  nats req crosstalk.cmd.instagram.conversation.start \
    '{"command_id":"<uuid>","actor":"instagram:alice","participants":["messenger:bob"]}'`

// serveContext takes the server of --context when --nats-url is not given.
func serveContext(sf *serving.Flags) error {
	cfg := &sf.Node
	if cfg.Credentials.Context == "" || cfg.NatsURL != "" {
		return nil
	}
	u, err := node.ResolveURL("", cfg.Credentials)
	cfg.NatsURL = u
	return err
}
