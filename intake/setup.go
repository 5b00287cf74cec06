package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrReplicationMismatch reports an existing intake stream or outcomes
// bucket whose replicas or placement differ from those asked for; crosstalk
// never rescales one itself, as package eventlog does not.
var ErrReplicationMismatch = errors.New("intake: replication differs from the one asked for")

// streamConfig is the intake stream: a work queue (a message goes once
// acknowledged), on file, deduplicated by Nats-Msg-Id for the window. Each
// subject crosstalk.intake.<app>.<action> holds at most o.SubjectLimit
// messages and the stream o.MaxBytes, and a publish beyond either is
// refused (discard new): the publisher gets an error, the disk keeps its
// room. It sets no MaxMsgSize: anything the server accepts gets an outcome.
func streamConfig(o Options) jetstream.StreamConfig {
	cfg := jetstream.StreamConfig{
		Name:        StreamName,
		Description: "crosstalk durable intake: commands waiting to be decided (docs/intake.md)",
		Subjects:    []string{StreamSubjects},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew,
		MaxMsgs:     -1,
		MaxBytes:    o.MaxBytes,
		Duplicates:  o.Window,

		MaxMsgsPerSubject:    o.SubjectLimit,
		DiscardNewPerSubject: true,
	}
	cfg.Replicas, cfg.Placement = placement(o)
	return cfg
}

// consumerConfig is the durable pull consumer that decides the intake.
func consumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		Description:   "crosstalk: decides the durable intake",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       AckWait,
		MaxAckPending: MaxAckPending,
		MaxDeliver:    -1,
	}
}

// bucketConfig is the outcomes bucket: one outcome per command id, kept
// for the window.
func bucketConfig(o Options) jetstream.KeyValueConfig {
	replicas, p := placement(o)
	return jetstream.KeyValueConfig{
		Bucket:      OutcomesBucket,
		Description: "crosstalk: outcomes of intake commands by command id (crosstalk.query.command)",
		History:     1,
		TTL:         o.Window,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Placement:   p,
	}
}

func placement(o Options) (int, *jetstream.Placement) {
	var p *jetstream.Placement
	if len(o.PlacementTags) > 0 {
		p = &jetstream.Placement{Tags: slices.Clone(o.PlacementTags)}
	}
	return max(o.Replicas, 1), p
}

// ensureStream creates the intake stream, or updates an existing one to
// the window and limits of o, keeping its replication (which must be o's, if given).
func ensureStream(ctx context.Context, js jetstream.JetStream, o Options) error {
	cfg := streamConfig(o)
	existing, err := js.Stream(ctx, StreamName)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if _, err = js.CreateStream(ctx, cfg); errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil // another node created it meanwhile
		}
		if err == nil {
			o.Logger.Info("intake: created stream", slog.String("stream", StreamName), slog.Duration("window", o.Window))
		}
		return err
	case err != nil:
		return err
	}
	have := existing.CachedInfo().Config
	if err := checkReplication(o, "stream "+StreamName, StreamName, have.Replicas, have.Placement); err != nil {
		return err
	}
	if have.Duplicates == cfg.Duplicates && have.MaxBytes == cfg.MaxBytes && have.Discard == cfg.Discard &&
		have.MaxMsgsPerSubject == cfg.MaxMsgsPerSubject && have.DiscardNewPerSubject {
		return nil
	}
	limit, err := safeSubjectLimit(ctx, existing, cfg.MaxMsgsPerSubject, o.Logger)
	if err != nil {
		return err
	}
	have.Duplicates, have.MaxBytes, have.Discard = cfg.Duplicates, cfg.MaxBytes, cfg.Discard
	have.MaxMsgsPerSubject, have.DiscardNewPerSubject = limit, true
	_, err = js.UpdateStream(ctx, have)
	return err
}

// safeSubjectLimit is want, or more where a subject already holds more:
// nats-server enforces a lowered per-subject limit by deleting a subject's
// oldest messages whatever the discard policy, and an intake message the
// stream acknowledged must be decided, never dropped.
func safeSubjectLimit(ctx context.Context, s jetstream.Stream, want int64, logger *slog.Logger) (int64, error) {
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(StreamSubjects))
	if err != nil {
		return 0, err
	}
	limit := want
	for subject, n := range info.State.Subjects {
		if int64(n) > limit {
			limit = int64(n)
			logger.Warn("intake: a subject holds more than the limit; the limit stays above it until it drains",
				slog.String("subject", subject), slog.Uint64("messages", n), slog.Int64("limit", want))
		}
	}
	return limit, nil
}

// ensureBucket creates the outcomes bucket, or sets an existing one's TTL
// to the window, keeping its replication.
func ensureBucket(ctx context.Context, js jetstream.JetStream, o Options) (jetstream.KeyValue, error) {
	cfg := bucketConfig(o)
	kv, err := js.KeyValue(ctx, OutcomesBucket)
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound):
		return js.CreateOrUpdateKeyValue(ctx, cfg)
	case err != nil:
		return nil, err
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, err
	}
	info := st.(*jetstream.KeyValueBucketStatus).StreamInfo()
	if err := checkReplication(o, "bucket "+OutcomesBucket, info.Config.Name, info.Config.Replicas, info.Config.Placement); err != nil {
		return nil, err
	}
	if st.TTL() == cfg.TTL {
		return kv, nil
	}
	cfg.Replicas, cfg.Placement = info.Config.Replicas, info.Config.Placement
	return js.CreateOrUpdateKeyValue(ctx, cfg)
}

// checkReplication compares what o asks for with what what, kept in the
// stream named stream, has, and says how to change it: crosstalk never
// rescales a stream itself.
func checkReplication(o Options, what, stream string, replicas int, p *jetstream.Placement) error {
	if o.Replicas > 0 && replicas != o.Replicas {
		return fmt.Errorf("%w: %s has %d replicas, %d were asked for (nats stream edit %s --replicas %d, or ask for %d)",
			ErrReplicationMismatch, what, replicas, o.Replicas, stream, o.Replicas, replicas)
	}
	var tags []string
	if p != nil {
		tags = slices.Sorted(slices.Values(p.Tags))
	}
	want := slices.Sorted(slices.Values(o.PlacementTags))
	if len(want) > 0 && !slices.Equal(tags, want) {
		return fmt.Errorf("%w: %s is placed by tags %v, %v were asked for (nats stream edit %s --tag ... for each tag, or ask for the stream's)",
			ErrReplicationMismatch, what, tags, want, stream)
	}
	return nil
}
