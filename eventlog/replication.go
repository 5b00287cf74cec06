package eventlog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// replication is where JetStream keeps a stream's copies, as Options and
// RejectionsOptions ask for it (their Replicas and PlacementTags). The zero
// value asks for nothing: a stream is created with DefaultReplicas and an
// existing one is accepted as it is.
type replication struct {
	replicas int
	tags     []string
}

// apply sets cfg's replicas and placement for a new stream.
func (r replication) apply(cfg *jetstream.StreamConfig) {
	cfg.Replicas = max(r.replicas, DefaultReplicas)
	if len(r.tags) > 0 {
		cfg.Placement = &jetstream.Placement{Tags: slices.Clone(r.tags)}
	}
}

// check returns an error wrapping ErrReplicationMismatch that names every
// difference between what r asks for and the existing stream cfg, with the
// command that changes the stream, or nil when there is none. Crosstalk
// never changes an existing stream's replication itself: scaling a stream
// moves its data between servers, which an operator decides.
func (r replication) check(cfg jetstream.StreamConfig) error {
	var diffs []string
	if r.replicas > 0 && cfg.Replicas != r.replicas {
		diffs = append(diffs, fmt.Sprintf("it has %d replicas, %d were asked for (nats stream edit %s --replicas %d, or ask for %d)",
			cfg.Replicas, r.replicas, cfg.Name, r.replicas, cfg.Replicas))
	}
	if have := placementTags(cfg); len(r.tags) > 0 && !sameTags(have, r.tags) {
		diffs = append(diffs, fmt.Sprintf("it is placed by tags [%s], [%s] were asked for (nats stream edit %s --tag ... for each tag, or ask for the stream's)",
			strings.Join(have, ","), strings.Join(r.tags, ","), cfg.Name))
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: stream %s: %s", ErrReplicationMismatch, cfg.Name, strings.Join(diffs, "; "))
}

// keepReplication makes an update of the existing stream cfg keep its replication
// (for the rejections stream, whose limits Open updates in place).
func keepReplication(update *jetstream.StreamConfig, existing jetstream.StreamConfig) {
	update.Replicas = existing.Replicas
	update.Placement = existing.Placement
}

func placementTags(cfg jetstream.StreamConfig) []string {
	if cfg.Placement == nil {
		return nil
	}
	return cfg.Placement.Tags
}

func sameTags(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
