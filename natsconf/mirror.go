package natsconf

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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

// EnsureMirrors creates AUDIT's mirrors of CROSSTALK and CROSSTALK_AUDIT
// that do not exist yet, as the service (nc is a connection of the
// service's account), through AuditAPIPrefix. The auditor cannot create
// them: whoever writes a mirror's configuration chooses the subject the
// service's account delivers it to. It returns the names it created, and
// an error wrapping ErrNoAuditAccount when the server has no such account.
func EnsureMirrors(ctx context.Context, nc *nats.Conn) ([]string, error) {
	js, err := jetstream.NewWithAPIPrefix(nc, AuditAPIPrefix)
	if err != nil {
		return nil, err
	}
	var created []string
	for _, name := range mirrored {
		_, err := js.Stream(ctx, name)
		if errors.Is(err, nats.ErrNoResponders) {
			return created, fmt.Errorf("%w: %s has no responders", ErrNoAuditAccount, AuditAPIPrefix)
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			if err != nil {
				return created, fmt.Errorf("the auditor's copy of %s: %w", name, err)
			}
			continue
		}
		_, err = js.CreateStream(ctx, MirrorConfig(name))
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return created, fmt.Errorf("create the auditor's copy of %s: %w", name, err)
		}
		created = append(created, name)
	}
	return created, nil
}
