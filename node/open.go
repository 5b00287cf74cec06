package node

import (
	"context"
	"errors"
	"github.com/crosstalk-dev/crosstalk/snapshots"
	"io/fs"
	"os"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// open creates or checks the streams and opens the views, if the node's
// roles need them.
func (n *Node) open(ctx context.Context, o Options) error {
	js, err := jetstream.New(n.nc)
	if err != nil {
		return err
	}
	if err := awaitJetStream(ctx, js, o.JetStreamWait, o.Logger); err != nil {
		return err
	}
	signer, err := n.signer(o)
	if err != nil {
		return err
	}
	if err := n.openSingletons(ctx, js, o); err != nil {
		return err
	}
	if err := n.openStreams(ctx, js, o, signer); err != nil {
		return err
	}
	n.ensureAuditMirrors(ctx, o.Logger)
	if n.snapshots, err = snapshots.Open(ctx, js, snapshots.Options{Replicas: o.Replicas, PlacementTags: o.PlacementTags}); err != nil {
		return err
	}
	if !o.Unsealed {
		if err := n.openKeys(ctx, js, o); err != nil {
			return err
		}
	}
	if !o.Roles.needsViews() {
		return nil
	}
	n.storeDir = n.layout.Views()
	vo := n.viewsOptions(o)
	vo.Dir = n.storeDir
	if err := n.feeds(ctx, o, &vo); err != nil {
		return err
	}
	n.store, err = projector.Open(vo)
	return err
}

// openStreams creates or checks the event log, the refused commands and
// the intake. A replication mismatch does not stop the checks of the
// streams after it, so that serve names every difference at once.
func (n *Node) openStreams(ctx context.Context, js jetstream.JetStream, o Options, signer *events.Signer) error {
	var mismatches []error
	check := func(err error) error {
		if errors.Is(err, eventlog.ErrReplicationMismatch) || errors.Is(err, intake.ErrReplicationMismatch) {
			mismatches = append(mismatches, err)
			return nil
		}
		return err
	}
	var err error
	n.log, err = eventlog.Open(ctx, js, eventlog.Options{Logger: o.Logger, Signer: signer,
		Replicas: o.Replicas, PlacementTags: o.PlacementTags, Partitions: o.Partitions,
		GroupCommit: groupCommit(o)})
	if err := check(err); err != nil {
		return err
	}
	n.rejections, err = eventlog.OpenRejections(ctx, js, eventlog.RejectionsOptions{Logger: o.Logger,
		Replicas: o.Replicas, PlacementTags: o.PlacementTags})
	if err := check(err); err != nil {
		return err
	}
	io, err := n.intakeOptions(o)
	if err != nil {
		return err
	}
	n.intake, err = intake.Open(ctx, js, io)
	if err := check(err); err != nil {
		return err
	}
	return errors.Join(mismatches...)
}

// feeds sets the live and durable feeds of the views the node serves
// (docs/feeds.md, nodeFeeds), unless the node lacks RoleQueries: only these views, never a rebuild's. Views
// built from nothing start their feeds at the log's end, so that a node
// whose views were deleted does not publish the whole history; views that
// exist publish the backlog they apply, which is news a client missed.
func (n *Node) feeds(ctx context.Context, o Options, vo *projector.Options) error {
	if !o.Roles.Has(RoleQueries) {
		return nil
	}
	var err error
	if vo.Feeds, err = n.nodeFeeds(ctx, o); vo.Feeds == nil {
		return err
	}
	if _, err := os.Stat(vo.Dir); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if n.log.Partitions() > 1 {
		var err error
		vo.FeedsAfterStreams, err = n.log.LastSeqs(ctx)
		return err
	}
	last, err := n.log.LastSeq(ctx)
	vo.FeedsAfter = last
	return err
}

// intakeOptions are Options.Intake placed as the event log is, logging and
// counting through the node, for the apps intakeApps names.
func (n *Node) intakeOptions(o Options) (intake.Options, error) {
	io := o.Intake
	io.Replicas, io.PlacementTags = o.Replicas, o.PlacementTags
	io.Logger, io.Observer = o.Logger, n.metrics
	io.Holding = n.singletons.intakeHolding()
	var err error
	io.Apps, err = intakeApps(o)
	return io, err
}

// intakeApps are the apps whose intake streams the node creates:
// Intake.Apps, and with NatsConfig every app account of the configuration
// (natsconf.ConfigApps); in development mode without any, the seed's apps,
// which development mode's self-declared callers use.
func intakeApps(o Options) ([]string, error) {
	apps := slices.Clone(o.Intake.Apps)
	if o.NatsConfig != "" {
		more, err := natsconf.ConfigApps(o.NatsConfig)
		if err != nil {
			return nil, err
		}
		apps = append(apps, more...)
	}
	if len(apps) == 0 && o.DevelopmentMode() {
		apps = slices.Clone(seed.Apps)
	}
	slices.Sort(apps)
	return slices.Compact(apps), nil
}

// viewsOptions are the options of the node's views, but for their Dir.
func (n *Node) viewsOptions(o Options) projector.Options {
	vo := projector.Options{Logger: o.Logger, SyncEveryBatch: o.SyncAlways, CacheSize: o.ViewsCacheSize,
		OnApplied: n.metrics.ObserveApplied}
	if n.log != nil && n.log.Partitions() > 1 { // a checkpoint per stream
		vo.Streams = len(n.log.Streams())
	}
	if o.Service.Clock != nil { // the feeds' policy in force is the service's
		vo.Now = o.Service.Clock.Now
	}
	if n.keys != nil {
		vo.Opener = keysOpener{n.keys}
	}
	return vo
}

// groupCommit reports whether the log commits concurrent appends in
// batches: on the embedded server with SyncAlways, which fsyncs each
// single publish but a single-replica stream's atomic batch once
// (docs/reliability.md, Sync setting).
func groupCommit(o Options) bool {
	return o.SyncAlways && o.NatsURL == "" && o.Replicas <= 1
}
