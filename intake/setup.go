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

// streamConfig is app's intake stream: a work queue (a message goes once
// acknowledged), on file, deduplicated by Nats-Msg-Id for the window. It
// holds at most o.AppLimit messages and o.AppMaxBytes bytes, and a publish
// beyond either is refused (discard new): the app gets an error, the disk
// keeps its room, and the other apps' streams still take theirs. It sets
// no MaxMsgSize: anything the server accepts gets an outcome.
func streamConfig(app string, o Options) jetstream.StreamConfig {
	cfg := jetstream.StreamConfig{
		Name:        AppStream(app),
		Description: "crosstalk durable intake of app " + app + ": commands waiting to be decided (docs/intake.md)",
		Subjects:    AppSubjects(app),
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew,
		MaxMsgs:     o.AppLimit,
		MaxBytes:    o.AppMaxBytes,
		Duplicates:  o.Window,
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

// ensureStream creates app's intake stream, or updates an existing one to
// the window and limits of o, keeping its replication (which must be o's,
// if given). A lowered limit drops nothing: with discard new, nats-server
// refuses publishes until the stream is under it again
// (TestLoweredLimitsKeepQueuedCommands).
func ensureStream(ctx context.Context, js jetstream.JetStream, app string, o Options) error {
	cfg := streamConfig(app, o)
	existing, err := js.Stream(ctx, cfg.Name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if _, err = js.CreateStream(ctx, cfg); errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil // another node created it meanwhile
		}
		if err == nil {
			o.Logger.Info("intake: created stream", slog.String("stream", cfg.Name), slog.Int64("max_msgs", cfg.MaxMsgs),
				slog.Int64("max_bytes", cfg.MaxBytes), slog.Duration("window", o.Window))
		}
		return err
	case err != nil:
		return err
	}
	have := existing.CachedInfo().Config
	if err := checkReplication(o, "stream "+cfg.Name, cfg.Name, have.Replicas, have.Placement); err != nil {
		return err
	}
	if have.Duplicates == cfg.Duplicates && have.MaxMsgs == cfg.MaxMsgs && have.MaxBytes == cfg.MaxBytes &&
		have.Discard == cfg.Discard && slices.Equal(have.Subjects, cfg.Subjects) {
		return nil
	}
	have.Duplicates, have.MaxMsgs, have.MaxBytes, have.Discard = cfg.Duplicates, cfg.MaxMsgs, cfg.MaxBytes, cfg.Discard
	have.Subjects = cfg.Subjects
	_, err = js.UpdateStream(ctx, have)
	return err
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
