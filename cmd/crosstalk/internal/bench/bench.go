// Package bench measures what crosstalk does per second on the machine it
// runs on, end to end through the real code: the embedded nats-server (or a
// given one), the micro endpoints of package service, the JetStream event log
// and the Pebble read model.
//
// Run measures, in one go and in this order:
//
//   - raw_js_async_pub and raw_ordered_consume: what JetStream itself does on
//     this machine (async publishes with Nats-Msg-Id to as many subjects as
//     conversations, then an ordered consumer reading them back), on a
//     separate stream BENCH_RAW. They are the yardsticks of the ratios.
//   - raw_request_reply: core NATS request-reply to an echo responder with
//     the concurrency of the pipelined cmd_send, the ceiling of any service
//     answering over NATS here.
//   - raw_occ_endpoint: the floor of a command on this design, a bare micro
//     endpoint that takes cmd_send's message.send bodies without decoding
//     them, publishes BodySize bytes to the conversation's subject (on a
//     stream BENCH_OCC of its own) with a Nats-Msg-Id and the
//     Nats-Expected-Last-Subject-Sequence it keeps in memory, and replies
//     with a small JSON once acked, with cmd_send's clients and concurrency.
//   - projector_apply and query_inbox: a read model of InboxSmall and then
//     InboxStore conversations, built by applying generated events straight
//     into Pebble, and inbox queries through crosstalk.query.inbox against
//     it, to show whether a query costs the same in a small and a large store.
//   - backlog_publish and projector_catchup: a backlog of valid, hash-chained
//     events published to the stream CROSSTALK with PublishAsync, then
//     applied into a fresh Pebble store by projector.Store.Run.
//   - cmd_send: message.send commands through the service, first with each
//     client waiting for every reply, then with InFlight requests in flight
//     per client; the headline is the higher.
//   - policy_close: the seconds from policy version 2 taking effect (on a
//     simulated clock) until the closer has closed Close cross-app
//     conversations and reports the version applied.
//   - rebuild: a full replay of the stream into a fresh Pebble store through
//     service.SwapViews, while the service keeps serving.
//   - intake: IntakeBacklog message.send commands over cmd_send's
//     conversations, published to the durable intake (package intake) while
//     no intake consumer runs, then decided by a consumer started on the
//     service: the time and CPU from its start until every command has its
//     outcome and nothing is pending. It runs after rebuild, so that the
//     rebuild replays the same history as before it existed.
//   - raw_occ_endpoint_late: raw_occ_endpoint again, just before
//     cmd_send_commands_node: the floor in the state the phases before left
//     the process and the broker in.
//   - cmd_send_sealed: cmd_send_commands_node's workload on a node that
//     seals every message's text (issue 26): the cost of sealing.
//   - cmd_send_commands_node: cmd_send_pipelined's workload, on
//     conversations of its own, answered by a commands-only service (no
//     store, as node.Start builds serve --roles commands), with no read
//     model running in the process: the read model's CPU is not in it.
//   - query_inbox_auth and cmd_send_auth (embedded broker only): query_inbox
//     on the large store and cmd_send_pipelined again, with the clients
//     connected as an app principal through the service import and a
//     service that enforces identities. The embedded broker runs an identity
//     configuration natsconf generates; every other figure connects as the
//     service principal, inside the account of the streams, so the two
//     differ only by the import and the checks.
//   - cold_load_long, cold_load_short, cold_load_long_heap,
//     cold_old_message_edit and cold_load_first: a conversation of
//     LongConversation messages and one of 100, generated into the log;
//     each loaded once by a commands-only service with snapshots (the first
//     load, of history written without snapshots: cold_load_first), then
//     the first command on each after a second, cold start, the live heap
//     the long one holds once cached, and an edit of its first message,
//     long out of memory (issue 25).
//   - cmd_send_durable (embedded broker only): cmd_send_pipelined's workload
//     on a second embedded broker with SyncAlways and views that sync every
//     batch, as serve --sync-always runs.
//   - cmd_send_partitions (embedded broker only): cmd_send_pipelined's
//     workload on another embedded broker whose log has
//     PartitionsFigure partitions (serve --partitions 4), its views
//     following every stream.
//
// Every figure also carries the CPU time the whole process (broker, service,
// clients) used while it was measured, which other load on the machine skews
// far less than a rate: CPU per operation is what to compare between runs.
//
// Ratios and targets (those of issue 15, all against figures of the same
// run) turn the figures into PASS or MISS. Nothing is timed by
// a test: the tests of this package only check that every figure is measured.
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/node"
)

// Options configure a run. The zero value of every field means its default;
// Run calls EnsureDefaults. Quick returns options small enough for tests.
type Options struct {
	// Duration is how long each timed phase runs (raw_js_async_pub, each
	// query_inbox size, each cmd_send variant). Default: 5s.
	Duration time.Duration
	// Conversations is how many conversations cmd_send spreads its commands
	// over, raw_js_async_pub its subjects, and the backlog its events.
	// Default: 1000.
	Conversations int
	// Clients is how many concurrent clients, each with its own NATS
	// connection, send commands and queries. Default: 32.
	Clients int
	// InFlight is how many requests each client keeps in flight in the
	// pipelined cmd_send. Default: 16.
	InFlight int
	// NatsURL, when set, is a NATS server with JetStream to run on instead of
	// an embedded one. The stream CROSSTALK must not exist there (the bench
	// fills it and, because it denies purges, cannot empty it again), nor the
	// stream BENCH_RAW. Default: "", an embedded server on 127.0.0.1 with a
	// free port and its files in a temporary directory.
	NatsURL string
	// Credentials authenticate every connection to NatsURL.
	Credentials node.Credentials
	// Backlog is how many events projector_catchup replays. Default: 200000.
	Backlog int
	// IntakeBacklog is how many message.send commands the intake figure
	// publishes to the durable intake before its consumer starts.
	// Default: 200000.
	IntakeBacklog int
	// InboxStore is how many conversations the read model of query_inbox
	// holds when it is measured the second time. Default: 100000.
	InboxStore int
	// InboxSmall is how many it holds the first time. Default: 10000, or
	// InboxStore if that is smaller.
	InboxSmall int
	// Close is how many open cross-app conversations policy_close closes.
	// Default: 100000.
	Close int
	// LongConversation is how many messages the long conversation of the
	// cold-load figures has (issue 25 aims at 1,000,000). Default:
	// DefaultLongConversation.
	LongConversation int
	// BodySize is the size in bytes of each raw_js_async_pub message.
	// Default: 256.
	BodySize int
	// TextSize is the size in bytes of the text of each message sent or
	// generated. Default: 64.
	TextSize int
	// Dir is where the temporary directories (JetStream, Pebble stores) are
	// made; they are removed at the end. Default: os.TempDir().
	Dir string
	// CPUProfile, when set, is a file name: each phase writes a CPU profile
	// of the whole process to it with the phase's name inserted before the
	// extension (cpu.pprof: cpu.cmd_send_sync.pprof). Default: "", none.
	CPUProfile string
	// Logger receives the logs of the service, the projector and the event
	// log. Default: slog.Default().
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultDuration      = 5 * time.Second
	DefaultConversations = 1000
	DefaultClients       = 32
	DefaultInFlight      = 16
	DefaultBacklog       = 200_000
	DefaultIntakeBacklog = 200_000
	DefaultInboxStore    = 100_000
	DefaultInboxSmall    = 10_000
	DefaultClose         = 100_000
	// DefaultLongConversation is the default of Options.LongConversation.
	DefaultLongConversation = 100_000
	DefaultBodySize         = 256
	DefaultTextSize         = 64
)

// EnsureDefaults fills every zero or negative field with its default.
func (o *Options) EnsureDefaults() {
	setDefault(&o.Duration, DefaultDuration)
	setDefault(&o.Conversations, DefaultConversations)
	setDefault(&o.Clients, DefaultClients)
	setDefault(&o.InFlight, DefaultInFlight)
	setDefault(&o.Backlog, DefaultBacklog)
	setDefault(&o.IntakeBacklog, DefaultIntakeBacklog)
	setDefault(&o.InboxStore, DefaultInboxStore)
	setDefault(&o.InboxSmall, min(DefaultInboxSmall, o.InboxStore))
	setDefault(&o.Close, DefaultClose)
	setDefault(&o.LongConversation, DefaultLongConversation)
	setDefault(&o.BodySize, DefaultBodySize)
	setDefault(&o.TextSize, DefaultTextSize)
	if o.Dir == "" {
		o.Dir = os.TempDir()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.InboxSmall = min(o.InboxSmall, o.InboxStore)
}

func setDefault[T int | time.Duration](field *T, def T) {
	if *field <= 0 {
		*field = def
	}
}

// Quick returns options that shrink every phase so that a whole run takes
// seconds: for tests and for trying the command, not for figures.
func Quick() Options {
	return Options{
		Duration: time.Second, Conversations: 100, Clients: 8, InFlight: 4,
		Backlog: 2000, IntakeBacklog: 2000, InboxStore: 2000, InboxSmall: 500, Close: 2000, LongConversation: 2000,
	}
}

// Progress is told which phase runs and how far it has got, for a progress
// bar or a log line. Run calls it from one goroutine at a time.
type Progress interface {
	// Phase says that a phase starts; total is its amount of work, in
	// units of the phase's own (events, milliseconds of a timed phase).
	Phase(name string, total int64)
	// Set says how much of the phase's total is done.
	Set(done int64)
	// Done says that the phase has ended.
	Done()
}

// silent is the Progress of a nil argument.
type silent struct{}

func (silent) Phase(string, int64) {}
func (silent) Set(int64)           {}
func (silent) Done()               {}

// Run starts the broker (or connects to Options.NatsURL), measures every
// figure and returns them with their ratios and targets. It removes every
// temporary file before returning. progress may be nil.
func Run(ctx context.Context, opts Options, progress Progress) (Result, error) {
	opts.EnsureDefaults()
	if progress == nil {
		progress = silent{}
	}
	started := time.Now()
	env, err := startEnv(ctx, opts, envKind{})
	if err != nil {
		return Result{}, err
	}
	r := &runner{opts: opts, env: env, progress: progress}
	r.result.Environment = describe(opts, env)
	err = r.measure(ctx)
	err = errors.Join(err, env.close())
	if err != nil {
		return Result{}, fmt.Errorf("bench: %w", err)
	}
	r.result.Environment.LoadAvgEnd = loadAvg()
	r.result.Environment.Seconds = time.Since(started).Seconds()
	r.result.evaluate()
	return r.result, nil
}

// runner is one run in progress: its environment and what it has measured.
type runner struct {
	opts     Options
	env      *env
	progress Progress
	result   Result
	// phaseCPU is the CPU time the process used in the last phase.
	phaseCPU time.Duration
	// clients are the connections of the simulated producers and readers.
	clients []*nats.Conn
	// appClients are the same as the app principal of appA, through the
	// service import, for the *_auth figures.
	appClients []*nats.Conn
}

// measure runs the phases in order; each adds its figures to r.result.
func (r *runner) measure(ctx context.Context) error {
	if err := r.rawPublish(ctx); err != nil {
		return fmt.Errorf("raw_js_async_pub: %w", err)
	}
	if err := r.rawConsume(ctx); err != nil {
		return fmt.Errorf("raw_ordered_consume: %w", err)
	}
	if err := r.rawRequestReply(ctx); err != nil {
		return fmt.Errorf("raw_request_reply: %w", err)
	}
	if err := r.rawOCCEndpoint(ctx); err != nil {
		return fmt.Errorf("%s: %w", figRawOCC, err)
	}
	if err := r.queryInbox(ctx); err != nil {
		return fmt.Errorf("query_inbox: %w", err)
	}
	store, err := r.catchUp(ctx)
	if err != nil {
		return fmt.Errorf("projector_catchup: %w", err)
	}
	if err := r.serviceFigures(ctx, store); err != nil {
		return err
	}
	if err := wrapPhase(figSendNode, r.cmdSendCommandsNode(ctx)); err != nil {
		return err
	}
	if err := wrapPhase(figSendSealed, r.cmdSendSealed(ctx)); err != nil {
		return err
	}
	if err := wrapPhase(figColdLong, r.coldLoad(ctx)); err != nil {
		return err
	}
	if err := wrapPhase(figSendDurable, r.cmdSendDurable(ctx)); err != nil {
		return err
	}
	return wrapPhase(figSendPartitions, r.cmdSendPartitions(ctx))
}

// add records one figure; unless it says otherwise, it cost the CPU time of
// the last phase.
func (r *runner) add(f Figure) {
	if f.CPU == 0 {
		f.CPU = r.phaseCPU
	}
	r.result.Figures = append(r.result.Figures, f)
}

// clientConns returns Options.Clients connections, opened on first use.
func (r *runner) clientConns() ([]*nats.Conn, error) {
	if r.clients == nil {
		conns, err := r.env.connectMany(r.opts.Clients, "client", r.env.connect)
		if err != nil {
			return nil, err
		}
		r.clients = conns
	}
	return r.clients, nil
}

// appConns returns Options.Clients connections as the app principal of
// appA, opened on first use; only on the embedded broker.
func (r *runner) appConns() ([]*nats.Conn, error) {
	if r.appClients == nil {
		conns, err := r.env.connectMany(r.opts.Clients, "app client", func(name string) (*nats.Conn, error) {
			return r.env.connectAs(string(appA), name)
		})
		if err != nil {
			return nil, err
		}
		r.appClients = conns
	}
	return r.appClients, nil
}
