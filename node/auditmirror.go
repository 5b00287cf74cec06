package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// mirrorTimeout bounds the creation of the auditor's mirrors at start.
const mirrorTimeout = 5 * time.Second

// ensureAuditMirrors creates the auditor's copies of the streams in the
// AUDIT account when the server has one (docs/security.md, "The auditor's
// account"): the service creates them, since whoever configures a mirror
// chooses where the service's account delivers it. Serving does not
// depend on them, so a failure is logged, not returned.
func (n *Node) ensureAuditMirrors(ctx context.Context, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, mirrorTimeout)
	defer cancel()
	created, err := natsconf.EnsureMirrors(ctx, n.nc, n.log.StreamNames()...)
	switch {
	case errors.Is(err, natsconf.ErrNoAuditAccount):
		logger.Debug("no AUDIT account: the auditor's mirrors are not made", slog.Any("err", err))
	case errors.Is(err, natsconf.ErrNotMirrored):
		logger.Warn("the auditor's mirrors are not made: the configuration lets AUDIT mirror a log of at most max partitions",
			slog.Int("partitions", n.log.Partitions()), slog.Int("max", natsconf.MaxMirroredPartitions), slog.Any("err", err))
	case err != nil:
		logger.Warn("the auditor's mirrors in account AUDIT could not be made; 'crosstalk audit' as the auditor finds no stream",
			slog.Any("err", err))
	case len(created) > 0:
		logger.Info("created the auditor's mirrors in account AUDIT", slog.Any("streams", created))
	}
}

// The bounds of waiting for a copy to catch up with its origin.
const (
	originTimeout = 2 * time.Second
	catchUpPoll   = 20 * time.Millisecond
	catchUpLimit  = 30 * time.Second
)

// ErrMirrorBehind reports an auditor's copy that did not reach, in
// catchUpLimit, the last sequence its origin had when the audit started.
var ErrMirrorBehind = errors.New("the copy of the stream lags its origin")

// catchUpMirrors waits until each stream of names that is a mirror of
// another account's (the auditor's copies, natsconf.MirrorConfig) holds
// what its origin held when asked: an audit then reads the whole history
// as of its start, not a copy a few events behind. A stream that is not
// such a mirror, or whose origin does not answer, is read as it is.
func catchUpMirrors(ctx context.Context, nc *nats.Conn, logger *slog.Logger, names ...string) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	for _, name := range names {
		s, err := js.Stream(ctx, name)
		if err != nil {
			continue // OpenExisting and OpenExistingRejections say what is missing
		}
		if err := catchUp(ctx, nc, s, logger); err != nil {
			return err
		}
	}
	return nil
}

func catchUp(ctx context.Context, nc *nats.Conn, s jetstream.Stream, logger *slog.Logger) error {
	cfg := s.CachedInfo().Config
	if cfg.Mirror == nil || cfg.Mirror.External == nil || cfg.Mirror.External.APIPrefix == "" {
		return nil
	}
	target, err := originLastSeq(ctx, nc, cfg.Mirror)
	if err != nil {
		logger.Warn("cannot ask the origin of a mirror how far it is; reading the copy as it is",
			slog.String("stream", cfg.Name), slog.Any("err", err))
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, catchUpLimit)
	defer cancel()
	for {
		info, err := s.Info(ctx)
		if err != nil {
			return fmt.Errorf("the copy of %s: %w", cfg.Name, err)
		}
		if info.State.LastSeq >= target {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s holds seq %d, its origin %d (mirror state: %+v)",
				ErrMirrorBehind, cfg.Name, info.State.LastSeq, target, info.Mirror)
		case <-time.After(catchUpPoll):
		}
	}
}

// originLastSeq asks a mirror's origin, through the mirror's API prefix,
// for its last sequence.
func originLastSeq(ctx context.Context, nc *nats.Conn, src *jetstream.StreamSource) (uint64, error) {
	origin, err := jetstream.NewWithAPIPrefix(nc, src.External.APIPrefix)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, originTimeout)
	defer cancel()
	o, err := origin.Stream(ctx, src.Name)
	if err != nil {
		return 0, err
	}
	return o.CachedInfo().State.LastSeq, nil
}
