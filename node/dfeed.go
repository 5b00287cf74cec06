package node

import (
	"context"
	"errors"
	"log/slog"

	"github.com/crosstalk-dev/crosstalk/feed"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// nodeFeeds are the feeds the node's views publish (docs/feeds.md): the
// live ones unless DisableFeeds, the durable ones unless
// DurableFeeds; nil when neither.
func (n *Node) nodeFeeds(ctx context.Context, o Options) (projector.Feeds, error) {
	var fs feed.Fanout
	if !o.DisableFeeds {
		fs = append(fs, feed.New(n.nc))
	}
	if o.DurableFeeds {
		d, err := n.durableFeeds(ctx, o)
		if err != nil {
			return nil, err
		}
		fs = append(fs, d)
	}
	switch len(fs) {
	case 0:
		return nil, nil
	case 1:
		return fs[0], nil
	}
	return fs, nil
}

// durableFeeds creates the durable feed stream of each app the node knows
// (intakeApps), placed as the log, and each app account's copy of its own
// when the server has app accounts that answer (natsconf.EnsureFeedMirrors);
// serving does not depend on the copies, so their failure is logged.
func (n *Node) durableFeeds(ctx context.Context, o Options) (*feed.Durable, error) {
	apps, err := intakeApps(o)
	if err != nil {
		return nil, err
	}
	d, err := feed.OpenDurable(ctx, n.nc, feed.DurableOptions{Apps: apps, MaxAge: o.DurableFeedsMaxAge,
		Replicas: o.Replicas, PlacementTags: o.PlacementTags, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	mctx, cancel := context.WithTimeout(ctx, mirrorTimeout)
	defer cancel()
	mo := natsconf.FeedMirrorOptions{MaxAge: o.DurableFeedsMaxAge, Replicas: o.Replicas, PlacementTags: o.PlacementTags}
	if mo.MaxAge == 0 {
		mo.MaxAge = feed.DefaultMaxAge
	}
	created, err := natsconf.EnsureFeedMirrors(mctx, n.nc, mo, apps...)
	switch {
	case errors.Is(err, natsconf.ErrNoFeedAccount):
		o.Logger.Debug("no app account answers: the durable feeds are read in the service's account", slog.Any("err", err))
	case err != nil:
		o.Logger.Warn("the app accounts' copies of their durable feeds could not all be made", slog.Any("err", err))
	}
	if len(created) > 0 {
		o.Logger.Info("created the app accounts' copies of their durable feeds", slog.Any("apps", created))
	}
	return d, nil
}
