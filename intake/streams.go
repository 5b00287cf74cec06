package intake

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// isIntakeStream reports whether name is an intake stream: an app's, or
// the legacy one while it drains.
func isIntakeStream(name string) bool {
	return name == LegacyStreamName || strings.HasPrefix(name, StreamPrefix)
}

// intakeStreams names the intake streams that exist: those Open created,
// those another node created for its apps, and the legacy stream until it
// is drained. It asks for names, never for the streams' information: a
// clustered server answers a list of information without a stream whose
// leader has not answered it within 4 s (and nats.go does not report the
// ones it calls missing), so a stream would seem deleted during an
// election, its lane closed with messages fetched ahead and its consumer
// kept with them (TestStreamLeftOutOfTheListKeepsIntakeOrder). Names come
// from the cluster's assignments, complete whatever a stream's leader does.
func intakeStreams(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	list := js.StreamNames(ctx)
	var out []string
	for name := range list.Name() {
		if isIntakeStream(name) {
			out = append(out, name)
		}
	}
	if err := list.Err(); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

// retireLegacy retires the single intake stream of before the streams per
// app, which captures crosstalk.intake.> and so overlaps every one of them
// (JetStream refuses overlapping streams in one account). Its consumers go
// first, then its subjects become RetiredSubjects, and only then is it
// deleted if empty: a publish can land in it until the edit, none after,
// so no message acknowledged by it is lost between the check and the
// delete. One that holds messages is drained by the Consumer (lanes).
func retireLegacy(ctx context.Context, js jetstream.JetStream, logger *slog.Logger) error {
	s, err := js.Stream(ctx, LegacyStreamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg := s.CachedInfo().Config
	if !slices.Equal(cfg.Subjects, []string{RetiredSubjects}) {
		if err := deleteConsumers(ctx, s); err != nil {
			return err
		}
		cfg.Subjects = []string{RetiredSubjects}
		cfg.MaxMsgsPerSubject, cfg.DiscardNewPerSubject = -1, false
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return err
		}
	}
	return deleteIfDrained(ctx, js, s, logger)
}

// deleteIfDrained deletes the retired legacy stream s once it holds no
// message: a work queue holds exactly those not yet acknowledged.
func deleteIfDrained(ctx context.Context, js jetstream.JetStream, s jetstream.Stream, logger *slog.Logger) error {
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	if n := info.State.Msgs; n > 0 {
		logger.Info("intake: the legacy stream drains before it is deleted", slog.String("stream", LegacyStreamName),
			slog.Uint64("messages", n))
		return nil
	}
	err = js.DeleteStream(ctx, LegacyStreamName)
	if err == nil {
		logger.Info("intake: deleted the legacy stream, drained", slog.String("stream", LegacyStreamName))
	}
	return err
}

// deleteConsumers deletes every consumer of the intake stream s that
// crosstalk made: ConsumerName, and the per-app ones of the legacy stream
// (crosstalk-intake-app-<app>, crosstalk-intake-sha-<hash>).
func deleteConsumers(ctx context.Context, s jetstream.Stream) error {
	names := s.ConsumerNames(ctx)
	var errs []error
	for name := range names.Name() {
		if name != ConsumerName && !strings.HasPrefix(name, ConsumerName+"-") {
			continue
		}
		if err := s.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, names.Err())...)
}

// deleteAllConsumers deletes crosstalk's consumers of every intake stream.
func deleteAllConsumers(ctx context.Context, js jetstream.JetStream) error {
	names, err := intakeStreams(ctx, js)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		s, err := js.Stream(ctx, name)
		if err == nil {
			err = deleteConsumers(ctx, s)
		}
		if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
