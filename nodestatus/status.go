// Package nodestatus reports on a node and its health: the reply of
// crosstalk.query.status and crosstalk.admin.node.<id>.status (api.Status),
// the nodes a status sees and who holds each lease, how far the read model
// is behind the log and how old its oldest unapplied event is, the lag's
// warnings in the log, what the command side skipped as poison, and the
// readiness answer behind /readyz. It reads the service through Source,
// which package service implements, so that it never imports the service.
package nodestatus

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Source is what a Reporter reads of the service it reports on.
type Source interface {
	// LastSeq is the log's last sequence; on a partitioned log the sum of
	// its streams', a count for lag and progress only.
	LastSeq(ctx context.Context) (uint64, error)
	// Views is the read model the service answers from now, nil when the
	// node keeps none.
	Views() Views
	// Get reads seq of the single stream, for the age of the lag.
	Get(ctx context.Context, seq uint64) (events.Message, error)
	// Partitioned is the log when it has several streams, else nil.
	Partitioned() Partitioned
	// Streams is each stream's line of the status on a partitioned log,
	// nil on the single stream.
	Streams(ctx context.Context) ([]api.StreamStatus, error)
	// Counted is the status's figures only the service keeps: its caches,
	// requests in flight, policy version, node and roles, start and
	// rebuild.
	Counted() api.Status
	// Projecting reports whether the projection loop follows the log.
	Projecting() bool
	// CaughtUpAtStart reports whether the views applied what the log held
	// when the service started.
	CaughtUpAtStart() bool
	// StartSeq is the log's last sequence when the service started.
	StartSeq() uint64
}

// Views is what a status reads of the read model; *projector.Store has it.
type Views interface {
	// Checkpoint is the last sequence applied, summed over the streams.
	Checkpoint() uint64
	// Checkpoints is each stream's last sequence applied.
	Checkpoints() []uint64
	// Poisoned lists the messages the views skipped.
	Poisoned() ([]api.Poisoned, error)
}

// Partitioned is what the lag's age reads of a partitioned log.
type Partitioned interface {
	// LastSeqs is each stream's last sequence, in stream order.
	LastSeqs(ctx context.Context) ([]uint64, error)
	// ReadStream reads the stream at index stream from fromSeq on, in
	// batches of at most maxBatch, until fn returns an error.
	ReadStream(ctx context.Context, stream int, fromSeq uint64, maxBatch int, fn func([]events.Message) error) error
}

// Config tunes a Reporter; Service fills every field from its Options.
type Config struct {
	// Conn asks the service's instances for their info ($SRV.INFO) and the
	// leases' bucket who holds each lease.
	Conn *nats.Conn
	// Watcher watches the stream's configuration; nil, it is not watched
	// and Healthy never blames the stream.
	Watcher StreamWatcher
	// Now is the service's clock, which dates the lag's age.
	Now func() time.Time
	// Logger receives the lag's warnings.
	Logger *slog.Logger
	// CheckInterval is how often the lag is checked.
	CheckInterval time.Duration
	// LagWarn, LagReportInterval and StallWarn are the service's options
	// of the same names: when the lag is logged, and how often.
	LagWarn           int
	LagReportInterval time.Duration
	StallWarn         time.Duration
	// StreamCheckInterval is how often the stream's configuration is
	// checked.
	StreamCheckInterval time.Duration
}

// Reporter reports on one service: build it with New.
type Reporter struct {
	cfg Config
	src Source
	// poison is what the command side skipped (CommandPoisoned).
	poison poisonBook
	// lagReported is when the lag was last logged, and lagSeen the views'
	// checkpoint and since when the reporter has seen it unchanged; the lag
	// reporter's goroutine alone reads and writes them.
	lagReported time.Time
	lagSeen     struct {
		checkpoint uint64
		since      time.Time
	}
}

// New returns a Reporter on src.
func New(cfg Config, src Source) *Reporter { return &Reporter{cfg: cfg, src: src} }

// Status reports the service's health. Commands never wait for the read
// model, so a lagging projector shows here and in the logs, not as slower
// commands. Poisoned lists what the views skipped, then what the command
// side skipped; StreamProblem is Healthy's error. StartSeq and
// CaughtUpAtStart tell whether queries still wait after a restart, and
// Rebuild shows an online rebuild's progress. Node, Roles, Nodes and
// Leases say which node answered, which nodes it sees and who holds each
// singleton's lease.
func (r *Reporter) Status(ctx context.Context) (api.Status, error) {
	last, err := r.src.LastSeq(ctx)
	if err != nil {
		return api.Status{}, err
	}
	st := r.src.Counted()
	st.StreamLastSeq = last
	if problem := r.Healthy(); problem != nil {
		st.StreamProblem = problem.Error()
	}
	if st.Nodes, err = r.nodes(ctx); err != nil {
		return st, err
	}
	if st.Leases, err = r.leases(ctx); err != nil {
		return st, err
	}
	st.Poisoned = []api.Poisoned{}
	if views := r.src.Views(); views != nil {
		st.ViewsCheckpoint = views.Checkpoint()
		if st.Streams, err = r.src.Streams(ctx); err != nil {
			return st, err
		}
		st.Lag = last - min(last, st.ViewsCheckpoint)
		viewsPoisoned, err := views.Poisoned()
		if err != nil {
			return st, err
		}
		st.Poisoned = append(st.Poisoned, viewsPoisoned...) // [] rather than null when none

	}
	commands, total := r.poison.list()
	st.Poisoned, st.PoisonedCommands = append(st.Poisoned, commands...), total
	return st, nil
}
