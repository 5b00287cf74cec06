package natsconf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/events"
)

// ErrNoAuditAccount reports a server with no AUDIT account reachable from
// the service's: a configuration without an auditor, or development mode.
var ErrNoAuditAccount = errors.New("no AUDIT account reachable")

// MirrorConfig is the configuration of AUDIT's copy of the service's stream
// name: a mirror, so it keeps the origin's sequence numbers and the hash
// chains read the same, reached through ServiceAPIPrefix and delivered
// under MirrorDeliverPrefix. Like the origin it keeps every message and
// denies deletes and purges.
func MirrorConfig(name string) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        name,
		Description: "the auditor's copy of the service's stream " + name + " (docs/security.md)",
		Mirror: &jetstream.StreamSource{Name: name, External: &jetstream.ExternalStream{
			APIPrefix: ServiceAPIPrefix, DeliverPrefix: MirrorDeliverPrefix}},
		Storage:           jetstream.FileStorage,
		Retention:         jetstream.LimitsPolicy,
		Discard:           jetstream.DiscardOld,
		MaxConsumers:      -1,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxMsgsPerSubject: -1,
		DenyDelete:        true,
		DenyPurge:         true,
		AllowDirect:       true,
	}
}

// ErrNotMirrored reports a stream the generated configuration does not let
// AUDIT mirror: a partition of a log of more than MaxMirroredPartitions.
var ErrNotMirrored = errors.New("the configuration lets AUDIT mirror no stream of that name")

// EnsureMirrors creates AUDIT's mirrors of the log's streams logStreams
// (CROSSTALK when none is given; a partitioned log's CROSSTALK_P<k> and
// CROSSTALK_POLICY) and of CROSSTALK_AUDIT that do not exist yet, as the
// service (nc is a connection of the service's account), through
// AuditAPIPrefix. The auditor cannot create them: whoever writes a
// mirror's configuration chooses the subject the service's account
// delivers it to. Each mirror carries its origin's crosstalk.* metadata,
// which records the log's layout for eventlog.OpenExisting. It returns the
// names it created, and an error wrapping ErrNoAuditAccount when the
// server has no such account.
func EnsureMirrors(ctx context.Context, nc *nats.Conn, logStreams ...string) ([]string, error) {
	audit, err := jetstream.NewWithAPIPrefix(nc, AuditAPIPrefix)
	if err != nil {
		return nil, err
	}
	names, err := mirrorNames(logStreams)
	if err != nil {
		return nil, errors.Join(auditAnswers(ctx, audit), err)
	}
	own, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	var created []string
	for _, name := range names {
		made, err := ensureMirror(ctx, audit, own, name)
		if err != nil {
			return created, err
		}
		if made {
			created = append(created, name)
		}
	}
	return created, nil
}

// mirrorNames are the streams EnsureMirrors mirrors, each one the
// configuration allows.
func mirrorNames(logStreams []string) ([]string, error) {
	if len(logStreams) == 0 {
		logStreams = []string{events.StreamName}
	}
	names := append(slices.Clone(logStreams), events.AuditStreamName)
	for _, name := range names {
		if !slices.Contains(mirrored, name) {
			return nil, fmt.Errorf("%w: %s (a log of at most %d partitions)", ErrNotMirrored, name, MaxMirroredPartitions)
		}
	}
	return names, nil
}

// auditAnswers returns an error wrapping ErrNoAuditAccount when AUDIT's
// JetStream API does not answer, so that a server without an auditor
// (development mode) is told apart from a log the configuration cannot
// mirror.
func auditAnswers(ctx context.Context, audit jetstream.JetStream) error {
	if _, err := audit.Stream(ctx, events.AuditStreamName); errors.Is(err, nats.ErrNoResponders) {
		return fmt.Errorf("%w: %s has no responders", ErrNoAuditAccount, AuditAPIPrefix)
	}
	return nil
}

// ensureMirror creates AUDIT's mirror of name unless it exists, and
// reports whether it did.
func ensureMirror(ctx context.Context, audit, own jetstream.JetStream, name string) (bool, error) {
	_, err := audit.Stream(ctx, name)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return false, fmt.Errorf("%w: %s has no responders", ErrNoAuditAccount, AuditAPIPrefix)
	case err == nil:
		return false, nil
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		return false, fmt.Errorf("the auditor's copy of %s: %w", name, err)
	}
	cfg := MirrorConfig(name)
	if origin, err := own.Stream(ctx, name); err == nil {
		cfg.Metadata = layoutMetadata(origin.CachedInfo().Config.Metadata)
	}
	_, err = audit.CreateStream(ctx, cfg)
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return false, fmt.Errorf("create the auditor's copy of %s: %w", name, err)
	}
	return true, nil
}

// layoutMetadata is the crosstalk.* part of an origin's metadata, not the
// keys nats-server adds of its own.
func layoutMetadata(md map[string]string) map[string]string {
	var out map[string]string
	for k, v := range md {
		if strings.HasPrefix(k, "crosstalk.") {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}
