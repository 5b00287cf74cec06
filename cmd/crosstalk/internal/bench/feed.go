package bench

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// errNoNotifications is a feed phase in which no subscriber heard anything:
// the views publish no feeds, so the figure would measure nothing.
var errNoNotifications = errors.New("no live feed notification was delivered")

// feedQuiet is how long a feed subscriber must hear nothing, once the
// views have applied everything, before its count is final: the views
// publish each batch's notifications after committing it.
const feedQuiet = 150 * time.Millisecond

// feedCounter counts what one subscription to every feed
// (crosstalk.feed.>) receives, and when the last notification arrived.
type feedCounter struct {
	sub  *nats.Subscription
	n    atomic.Int64
	last atomic.Int64 // time.Now().UnixNano() of the last arrival
}

// countFeeds subscribes to every feed on a connection of its own. The
// subscription keeps whatever arrives: a count that dropped notifications
// as a slow consumer would understate what the views published.
func (r *runner) countFeeds() (*feedCounter, error) {
	nc, err := r.env.connect("crosstalk bench feed subscriber")
	if err != nil {
		return nil, err
	}
	c := &feedCounter{}
	c.sub, err = nc.Subscribe(api.FeedPrefix+">", func(*nats.Msg) {
		c.n.Add(1)
		c.last.Store(time.Now().UnixNano())
	})
	if err != nil {
		return nil, err
	}
	if err := c.sub.SetPendingLimits(-1, -1); err != nil {
		return nil, err
	}
	// The subscription must be in place at the server before the phase
	// publishes anything.
	return c, nc.Flush()
}

// count is how many notifications arrived so far.
func (c *feedCounter) count() int64 { return c.n.Load() }

// lastAt is when the last notification arrived; zero if none did.
func (c *feedCounter) lastAt() time.Time {
	if ns := c.last.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// settle waits until no notification has arrived for feedQuiet.
func (c *feedCounter) settle(ctx context.Context) error {
	t := time.NewTicker(feedQuiet / 3)
	defer t.Stop()
	seen, since := c.count(), time.Now()
	for time.Since(since) < feedQuiet {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if n := c.count(); n != seen {
			seen, since = n, time.Now()
		}
	}
	return nil
}

// stop ends the subscription.
func (c *feedCounter) stop() { _ = c.sub.Unsubscribe() }

// feedFigure measures feed: cmd_send_pipelined's workload on the service
// whose views publish live feeds, with one subscriber to every feed
// counting the notifications it receives. Its value is notifications per
// second from the start of the sends until the last notification of their
// events arrived.
func (r *runner) feedFigure(ctx context.Context, store *projector.Store, convs []sendConv) error {
	conns, err := r.clientConns()
	if err != nil {
		return err
	}
	counter, err := r.countFeeds()
	if err != nil {
		return err
	}
	defer counter.stop()
	var cmds latencies
	var start time.Time
	err = r.timedPhase(figFeed, r.opts.Duration, func() (err error) {
		start = time.Now()
		if cmds, _, err = r.sendLoop(ctx, conns, convs, r.opts.InFlight, text(r.opts.TextSize)); err != nil {
			return err
		}
		return r.drainFeeds(ctx, store, counter)
	})
	if err != nil {
		return err
	}
	n := counter.count()
	if n == 0 {
		return fmt.Errorf("%w: none during %d message.send commands", errNoNotifications, len(cmds))
	}
	elapsed := counter.lastAt().Sub(start)
	r.add(Figure{Name: figFeed, Value: rate(int(n), elapsed), Unit: "notes/s", Count: n, Elapsed: elapsed,
		Note: fmt.Sprintf("notifications delivered to one subscriber of %s> during %s's workload: %d commands "+
			"(%.0f/s), %.2f notifications a command, %.1fµs of CPU a command", api.FeedPrefix, figSendPiped,
			len(cmds), rate(len(cmds), elapsed), float64(n)/float64(len(cmds)),
			float64(r.phaseCPU.Microseconds())/float64(len(cmds)))})
	return nil
}

// drainFeeds waits until the views have applied every event in the log and
// the feed subscriber has heard nothing more for feedQuiet.
func (r *runner) drainFeeds(ctx context.Context, store *projector.Store, counter *feedCounter) error {
	last, err := r.env.log.LastSeq(ctx)
	if err != nil {
		return err
	}
	if err := store.WaitFor(ctx, last); err != nil {
		return err
	}
	return counter.settle(ctx)
}
