package node

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/lease"
)

// The leases' names in the bucket lease.Bucket.
const (
	// CloserLease is the lease of the policy closer.
	CloserLease = "closer"
	// IntakeLease is the lease of the intake consumer.
	IntakeLease = "intake"
)

// singletons are the leases this node contends for: one per singleton
// whose role it has, nil otherwise.
type singletons struct {
	closer, intake *lease.Lease
}

// openSingletons opens the leases bucket, placed as the event log, and the
// leases of the roles o has.
func (n *Node) openSingletons(ctx context.Context, js jetstream.JetStream, o Options) error {
	ls, err := lease.Open(ctx, js, lease.Options{Node: o.NodeID, TTL: o.LeaseTTL,
		Replicas: o.Replicas, PlacementTags: o.PlacementTags, Logger: o.Logger})
	if err != nil {
		return fmt.Errorf("open the leases bucket: %w", err)
	}
	if o.Roles.Has(RoleCloser) {
		n.singletons.closer = ls.Lease(CloserLease)
	}
	if o.Roles.Has(RoleIntake) {
		n.singletons.intake = ls.Lease(IntakeLease)
	}
	return nil
}

// closerHolding is the service's closer lease: never held without the
// closer's role.
func (s singletons) closerHolding() func() (uint64, bool) {
	if s.closer == nil {
		return func() (uint64, bool) { return 0, false }
	}
	return s.closer.Held
}

// intakeHolding is the intake consumer's lease, held always without one
// (the consumer does not run then).
func (s singletons) intakeHolding() func() (uint64, bool) {
	if s.intake == nil {
		return nil
	}
	return s.intake.Held
}

// run contends for the leases in g until ctx is done: the closer's lease
// alone (the service runs the closer and asks it), the intake's with the
// consumer, which starts once ready is closed.
func (s singletons) run(ctx context.Context, g *errgroup.Group, ready <-chan struct{}, c *intake.Consumer) {
	if s.closer != nil {
		g.Go(func() error {
			return s.closer.Run(ctx, func(ctx context.Context) error { <-ctx.Done(); return nil })
		})
	}
	if s.intake == nil || c == nil {
		return
	}
	g.Go(func() error {
		select {
		case <-ready:
			return s.intake.Run(ctx, c.Run)
		case <-ctx.Done():
			return nil
		}
	})
}

// Holds says whether this node holds the lease name (CloserLease,
// IntakeLease) now, and its term.
func (n *Node) Holds(name string) (term uint64, ok bool) {
	l := map[string]*lease.Lease{CloserLease: n.singletons.closer, IntakeLease: n.singletons.intake}[name]
	if l == nil {
		return 0, false
	}
	return l.Held()
}
