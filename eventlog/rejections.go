package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/events"
)

// RejectionsOptions configure the stream of rejected commands.
type RejectionsOptions struct {
	// MaxBytes bounds the stream's size; the oldest records go first.
	// Default: 1 GiB.
	MaxBytes int64
	// MaxAge is how long a record is kept. Default: 400 days, more than a
	// year of "who tried what" for regulators' yearly reports.
	MaxAge time.Duration
	// Replicas as for Options: 0 creates the stream with DefaultReplicas
	// and keeps an existing stream's; a positive value must match an
	// existing stream's.
	Replicas int
	// PlacementTags as for Options.
	PlacementTags []string
	// Logger receives failed publishes. Default: slog.Default().
	Logger *slog.Logger
}

// EnsureDefaults fills every zero field with its default.
func (o *RejectionsOptions) EnsureDefaults() {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 30
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 400 * 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Rejections is the stream of rejected commands, one
// crosstalk.command.rejected.v1 record per 403 decision; "rejections" names
// it after that event type everywhere in Go. Unlike the history
// it is size- and age-limited: it is evidence of attempts, not part of what
// any user could see, and not what package audit proves.
//
// The stream itself keeps its name CROSSTALK_AUDIT (events.AuditStreamName)
// and its subjects crosstalk.audit.rejected.<app>.<code> for on-disk
// compatibility: they are on disk and on the wire, and renaming them would
// orphan the records already kept.
type Rejections struct {
	js     jetstream.JetStream
	logger *slog.Logger
}

// OpenRejections creates or updates the stream of rejected commands and
// returns it. An update sets the limits of opts and keeps the stream's
// replication, which must be what opts ask for, if anything
// (ErrReplicationMismatch otherwise, as Open). It refuses options
// RejectionsOptions.Validate refuses.
func OpenRejections(ctx context.Context, js jetstream.JetStream, opts RejectionsOptions) (*Rejections, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.EnsureDefaults()
	cfg := rejectionsConfig(opts)
	want := replication{replicas: opts.Replicas, tags: opts.PlacementTags}
	existing, err := js.Stream(ctx, cfg.Name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		want.apply(&cfg)
	case err != nil:
		return nil, fmt.Errorf("rejections stream %s: %w", cfg.Name, err)
	default:
		if err := want.check(existing.CachedInfo().Config); err != nil {
			return nil, err
		}
		keepReplication(&cfg, existing.CachedInfo().Config)
	}
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return nil, fmt.Errorf("rejections stream %s: %w", cfg.Name, err)
	}
	return &Rejections{js: js, logger: opts.Logger}, nil
}

// rejectionsConfig is the stream of rejected commands with opts' limits,
// without its replication.
func rejectionsConfig(opts RejectionsOptions) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        events.AuditStreamName,
		Description: "crosstalk refused commands (403 decisions); size- and age-limited",
		Subjects:    []string{events.AuditSubjects},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxBytes:    opts.MaxBytes,
		MaxAge:      opts.MaxAge,
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true,
	}
}

// OpenExistingRejections opens the stream of rejected commands for reading,
// with whatever limits it has, and returns an error wrapping ErrNoStream if
// there is none. Unlike OpenRejections it never creates or updates the
// stream: a reader must not change what it reads, and the auditor may not.
// logger may be nil.
func OpenExistingRejections(ctx context.Context, js jetstream.JetStream, logger *slog.Logger) (*Rejections, error) {
	if _, err := existingStream(ctx, js, events.AuditStreamName); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Rejections{js: js, logger: logger}, nil
}

// Record publishes one record without waiting for its acknowledgement, so
// that recording a rejection costs the command path one asynchronous publish.
// A failed publish is logged, never returned to the refused command.
func (a *Rejections) Record(subject string, data []byte) {
	if _, err := a.js.PublishAsync(subject, data); err != nil {
		a.logger.Warn("eventlog: record refused command", slog.String("subject", subject), slog.Any("err", err))
	}
}

// Flush waits until every record published so far is acknowledged, or ctx
// is done.
func (a *Rejections) Flush(ctx context.Context) error {
	select {
	case <-a.js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Read delivers every record with sequence >= fromSeq whose subject matches
// filter (e.g. "crosstalk.audit.rejected.instagram.>"; empty means all) up
// to the stream's last sequence now, then returns.
func (a *Rejections) Read(ctx context.Context, filter string, fn func(events.Message) error) error {
	stream, err := a.js.Stream(ctx, events.AuditStreamName)
	if err != nil {
		return err
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if filter != "" {
		cfg.FilterSubjects = []string{filter}
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		_ = a.js.DeleteConsumer(context.WithoutCancel(ctx), events.AuditStreamName, cons.CachedInfo().Name)
	}()
	for {
		batch, err := cons.FetchNoWait(500)
		if err != nil {
			return err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			meta, err := m.Metadata()
			if err != nil {
				return err
			}
			if err := fn(events.Message{Seq: meta.Sequence.Stream, Subject: m.Subject(), Data: m.Data()}); err != nil {
				return err
			}
		}
		if err := batch.Error(); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}
