// Package service is crosstalk's front door: the NATS micro endpoints for
// commands, queries and admin, the command path (load the aggregate, decide,
// append with optimistic concurrency, retry), and the query path, which
// reads the read model (package readmodel). It wires the pure aggregates
// to the event log and the read model, and runs the policy scheduler and
// closer (package closer) beside them.
package service

import (
	"context"
	"errors"
	"github.com/crosstalk-dev/crosstalk/clock"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/sync/errgroup"

	"github.com/crosstalk-dev/crosstalk/admission"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/closer"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/headerguard"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/nodestatus"
	"github.com/crosstalk-dev/crosstalk/pipeline"
	"github.com/crosstalk-dev/crosstalk/policybook"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/readmodel"
	"github.com/crosstalk-dev/crosstalk/rpc"
	"github.com/crosstalk-dev/crosstalk/version"
)

// Log is what the service needs of the event log (package eventlog).
type Log interface {
	Append(ctx context.Context, subject string, expectedSeq uint64, msgID string, data []byte) (uint64, bool, error)
	AppendAll(ctx context.Context, entries []eventlog.Entry) []eventlog.Result
	// LoadPage returns the first page of subject's messages after
	// afterSeq and whether more follow (eventlog.Log.LoadPage).
	LoadPage(ctx context.Context, subject string, afterSeq uint64) ([]events.Message, bool, error)
	Get(ctx context.Context, seq uint64) (events.Message, error)
	LastSeq(ctx context.Context) (uint64, error)
	// LastSeqOn is the sequence of subject's last message as the stream's
	// leader knows it (0: none), so that nothing acknowledged is missed.
	LastSeqOn(ctx context.Context, subject string) (uint64, error)
	Read(ctx context.Context, fromSeq uint64, maxBatch int, fn func([]events.Message) error) error
}

// Options tune the service. The zero value is usable: every field has a
// documented default.
type Options struct {
	// Clock decides what time it is. Default: clock.Wall.
	Clock clock.Clock
	// Logger receives structured logs. Default: slog.Default().
	Logger *slog.Logger
	// CommandTimeout bounds one command or query. Default: 5s.
	CommandTimeout time.Duration
	// AppendTimeout bounds how long a command waits for the log once the
	// service takes it up: reading the newest policy from the stream's
	// leader, loading its aggregate, appending, retrying on a conflict. A
	// command endpoint's request has this one deadline from its take-up,
	// in place of CommandTimeout when shorter. Past it the command is answered 503 unavailable, saying
	// to retry with the same command_id, instead of waiting the whole
	// CommandTimeout for a stream leader that died under the append. It
	// should exceed what a healthy append takes under load and stay below
	// producers' request timeouts and the time JetStream takes to elect a
	// new leader (seconds). Default: DefaultAppendTimeout.
	AppendTimeout time.Duration
	// MaxRetries bounds optimistic-concurrency retries of one command
	// before it is answered 409 conflict. Default: 5.
	MaxRetries int
	// MaxInFlight bounds commands (the admin's included) handled at once;
	// more wait. Default: 1024.
	MaxInFlight int
	// MaxQueriesInFlight bounds queries handled at once, apart from
	// commands, so that queries waiting for their min_seq never delay a
	// command; more wait. Default: 1024.
	MaxQueriesInFlight int
	// MaxInFlightPerConnection bounds the commands, and apart from them
	// the queries, that one connection (one principal, when identities are
	// enforced) may have in flight; more are refused at once with 429
	// too_many_requests. Default: a quarter of MaxInFlight for commands and
	// of MaxQueriesInFlight for queries, so that one producer never takes
	// every slot.
	MaxInFlightPerConnection int
	// Limits are each principal's rate and in-flight limits, by kind of
	// principal, commands apart from queries (admission.PrincipalLimits documents
	// the defaults). Intake commands do not count against them: the
	// service pulls the intake at its own pace. Default: DefaultLimits.
	Limits admission.PrincipalLimits
	// CacheSize bounds the aggregates kept in memory, conversations and
	// accounts each. Default: 100000.
	CacheSize int
	// PolicyCheckInterval is how often the scheduler looks for a policy that
	// has become effective (closer.Options.CheckInterval), and how often the
	// lag of the read model is checked. Default: 1s.
	PolicyCheckInterval time.Duration
	// CloseGrace is how long after its first scan the closer scans again, to
	// catch a conversation started just before the effective time. On the
	// wall clock Validate refuses one shorter than a command's bound
	// (AppendTimeout, or CommandTimeout when shorter). Default:
	// CommandTimeout.
	CloseGrace time.Duration
	// CloseConcurrency bounds concurrent closings through the command path
	// (under a policy with opt-in links, or when a pipelined closing
	// conflicted). Default: 64.
	CloseConcurrency int
	// CloseRun is how many closings the closer decides from the views and
	// appends at once, pipelined, when the policy has no opt-in links.
	// Default: 1024, enough to keep JetStream busy while a run's
	// acknowledgements still return within milliseconds.
	CloseRun int
	// CloserLease is the closer's lease (closer.Options.Holding): whether
	// this node holds it now, and its term. Default: nil, always held (one
	// node alone).
	CloserLease func() (term uint64, ok bool)
	// ReadWait bounds how long a query with min_seq waits. Default: 2s.
	ReadWait time.Duration
	// Snapshots keeps conversation snapshots and the records of messages
	// out of a conversation's memory (package snapshots). Default: nil,
	// and a conversation keeps every message's record in memory and loads
	// by folding its whole history.
	Snapshots Snapshots
	// SnapshotEvery is how many events of a conversation pass between two
	// of its snapshots. Default: DefaultSnapshotEvery.
	SnapshotEvery int
	// Rejections records commands refused by a 403 decision. Default: nil,
	// nothing is recorded.
	Rejections RejectionRecorder
	// Opener opens the sealed texts and reactions a query answers with
	// (docs/erasure.md): the keyring. Default: nil, no keys, and a query
	// shows what the views store (text written in clear as it is).
	Opener projector.Opener
	// LagWarn is how many events the read model may be behind the log
	// before the service logs a warning. Default: 10000.
	LagWarn int
	// LagReportInterval spaces those warnings. Default: 10s.
	LagReportInterval time.Duration
	// StallWarn is how long the read model may stay at one checkpoint
	// while the log holds more before the service logs a warning, whatever
	// the lag: a follower of the log that stalls (as after a stream leader
	// was lost) is news even when few events wait. Default: 5s.
	StallWarn time.Duration
	// Version is reported by the micro service. Default: this build's
	// (version.Info.Semver).
	Version string
	// EnforceIdentity checks every request against its authenticated
	// principal (package identity), read from the Nats-Request-Info header
	// nats-server writes. Default: false, development mode, where a
	// request acts as whoever its body says.
	EnforceIdentity bool
	// AdminAccount is the NATS account whose users are admins.
	// Default: identity.AdminAccount.
	AdminAccount string
	// StreamCheckInterval is how often the stream's configuration is
	// checked against what crosstalk requires, when the log can check it
	// (nodestatus.StreamWatcher). Default: 5s.
	StreamCheckInterval time.Duration
	// Observer receives the service's measurements (package metrics).
	// Default: nil, nothing is measured.
	Observer Observer
	// Outcomes is where crosstalk.query.command reads the outcomes of
	// intake commands. Default: nil, and every command id is not_found.
	Outcomes Outcomes
	// Rebuilds is where crosstalk.admin.views.rebuild rebuilds the read
	// model (package node gives its data directory's). Default: nil, and
	// a rebuild is refused.
	Rebuilds Rebuilds
	// NodeID names the node in every reply (the Crosstalk-Node header),
	// its micro metadata and its status, and makes its own admin subjects
	// crosstalk.admin.node.<id>.*. Default: "n-" and 8 random hex digits
	// (package node keeps one per data directory).
	NodeID string
	// Keys seal the content of messages, edits and reactions before they
	// are appended, and erase it: an unsend punctures its message's key,
	// account.erase every key of the account (docs/erasure.md).
	// *keyring.Ring is one. Default: nil, content is appended in clear and
	// erasure destroys no key.
	Keys Keys
	// Roles are the roles the service takes, of api.RoleCommands,
	// RoleQueries, RoleCloser and RoleIntake: without commands it answers
	// no command, without closer it runs no closer. It answers queries
	// when it has a read model (New's store) and the queries role.
	// Default: all four.
	Roles []string
}

// DefaultAppendTimeout is the default of Options.AppendTimeout.
const DefaultAppendTimeout = 2 * time.Second

// EnsureDefaults fills every zero field with its default.
func (o *Options) EnsureDefaults() {
	if o.Clock == nil {
		o.Clock = clock.Wall{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	setDefault(&o.CommandTimeout, 5*time.Second)
	setDefault(&o.AppendTimeout, min(DefaultAppendTimeout, o.CommandTimeout))
	setDefault(&o.MaxRetries, 5)
	setDefault(&o.MaxInFlight, 1024)
	setDefault(&o.MaxQueriesInFlight, 1024)
	setDefault(&o.CacheSize, 100_000)
	setDefault(&o.PolicyCheckInterval, time.Second)
	setDefault(&o.CloseGrace, o.CommandTimeout)
	setDefault(&o.CloseConcurrency, 64)
	setDefault(&o.CloseRun, 1024)
	setDefault(&o.ReadWait, 2*time.Second)
	setDefault(&o.SnapshotEvery, DefaultSnapshotEvery)
	setDefault(&o.LagWarn, 10000)
	setDefault(&o.LagReportInterval, 10*time.Second)
	setDefault(&o.StallWarn, 5*time.Second)
	setDefault(&o.Version, version.Read().Semver())
	setDefault(&o.AdminAccount, identity.AdminAccount)
	setDefault(&o.StreamCheckInterval, 5*time.Second)
	setDefault(&o.NodeID, newNodeID())
	if len(o.Roles) == 0 {
		o.Roles = allRoles
	}
	o.Limits.EnsureDefaults()
}

// perConnection is one connection's share of limit: the option when set,
// else a quarter of limit.
func perConnection(o Options, limit int) int {
	if o.MaxInFlightPerConnection > 0 {
		return o.MaxInFlightPerConnection
	}
	return max(limit/4, 1)
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// Service serves crosstalk over NATS. Build it with New and run it with Run.
type Service struct {
	// invalid is what Options.Validate found wrong with New's options.
	invalid error
	nc      *nats.Conn
	log     Log
	// model is the read model: the store queries use, its swap and
	// rebuild, the waits (package readmodel).
	model    *readmodel.Model
	opts     Options
	convs    *cache
	accts    *cache
	policy   *entry
	book     *policybook.Book // the published policies, copied from policy
	closer   *closer.Closer
	ready    chan struct{}
	commands *admission.Limiter // commands' slots and budgets
	queries  *admission.Limiter // queries' slots and budgets
	pipe     *pipeline.Pipeline // the write path of commands and intake waves (writes.go)
	// commandDeadlines and requestDeadlines are the requests' shared
	// deadlines (rpc.Deadlines): commands' AppendTimeout, CommandTimeout.
	commandDeadlines, requestDeadlines rpc.Deadlines
	// status reports on the node and its health, logs the lag and keeps
	// what the command side skipped as poison (status.go).
	status *nodestatus.Reporter
	// observer is Options.Observer, or one that ignores everything.
	observer Observer
}

// New builds a service on a NATS connection, an event log and a read
// model; a nil store makes a service without one, which answers commands
// and admin requests only. New options that Options.Validate refuses make
// a service whose Run returns that error.
func New(nc *nats.Conn, log Log, store *projector.Store, opts Options) *Service {
	if err := opts.Validate(); err != nil {
		model, _ := readmodel.New(log, nil, readmodel.Options{})                // the zero Options are valid
		return &Service{invalid: err, ready: make(chan struct{}), model: model} // Run returns err
	}
	opts.EnsureDefaults()
	// Options.Validate refused whatever readmodel.Options.Validate would.
	model, _ := readmodel.New(log, store, readmodel.Options{Logger: opts.Logger, ReadWait: opts.ReadWait, Rebuilds: opts.Rebuilds})
	s := &Service{
		nc: nc, log: log, opts: opts, model: model,
		convs:    newCache(opts.CacheSize),
		accts:    newCache(opts.CacheSize),
		ready:    make(chan struct{}),
		observer: opts.Observer,
	}
	if s.observer == nil {
		s.observer = noObserver{}
	}
	s.pipe = pipeline.New(log, s.observer.Appended)
	s.commands = admission.NewLimiter("commands", opts.MaxInFlight, perConnection(opts, opts.MaxInFlight),
		opts.Limits, admission.Commands, opts.Logger)
	s.queries = admission.NewLimiter("queries", opts.MaxQueriesInFlight, perConnection(opts, opts.MaxQueriesInFlight),
		opts.Limits, admission.Queries, opts.Logger)
	s.policy = &entry{subject: events.PolicySubject, fresh: newPolicies, state: newPolicies()}
	s.book = policybook.New(policySource{s}, log, opts.AppendTimeout)
	s.closer = newCloser(s)
	s.status = newReporter(s)
	return s
}

// Ready is closed once the endpoints answer.
func (s *Service) Ready() <-chan struct{} { return s.ready }

// Run loads the policies, notes the stream's last sequence (queries wait
// for the views to reach it, readmodel.Model.NoteStart), starts the read-model
// projector, the policy scheduler and closer, the lag reporter, the
// stream's configuration watch, the online rebuilds and the NATS
// endpoints, and serves until ctx is done. It then stops the endpoints,
// waits for requests in flight, and returns. It returns at once, an error
// wrapping ErrInvalidOptions, when New's options were invalid.
func (s *Service) Run(ctx context.Context) error {
	if s.invalid != nil {
		return s.invalid
	}
	if s.opts.EnforceIdentity && !headerguard.Guarded(s.nc) {
		return ErrUnguarded
	}
	if err := s.book.Refresh(ctx); err != nil {
		return err
	}
	if err := s.model.NoteStart(ctx); err != nil {
		return err
	}
	watch := s.status.StreamWatch() // before the endpoints answer: no edit goes unseen
	g, gctx := errgroup.WithContext(ctx)
	if s.hasViews() {
		g.Go(func() error { return s.model.Run(gctx) })
		g.Go(func() error { return s.model.RunRebuilds(gctx) })
		g.Go(func() error { return s.status.RunLagReport(gctx) })
		if s.has(api.RoleCloser) { // the closer finds what to close in the views
			g.Go(func() error { return s.closer.Run(gctx) })
		}
	}
	g.Go(func() error { watch(gctx); return nil })
	g.Go(func() error { return s.serve(gctx) })
	return g.Wait()
}

// serve registers the micro service and keeps it until ctx is done.
func (s *Service) serve(ctx context.Context) error {
	svc, err := s.addService(ctx)
	if err != nil {
		return err
	}
	// The endpoints' subscriptions must reach the server before anyone is
	// told they answer, or a first request can find no responders.
	if err := s.nc.Flush(); err != nil {
		return errors.Join(err, svc.Drain())
	}
	s.opts.Logger.Info("crosstalk service ready", slog.String("service", svc.Name()),
		slog.String("node", s.opts.NodeID), slog.String("roles", strings.Join(s.opts.Roles, ",")),
		slog.String("id", svc.ID()), slog.String("nats", s.nc.ConnectedUrlRedacted()))
	close(s.ready)
	<-ctx.Done()
	return svc.Stop() // drains, then waits for the requests taken up
}
