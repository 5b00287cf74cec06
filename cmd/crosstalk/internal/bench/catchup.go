package bench

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// epoch is when the bench's simulated history starts: the backlog, and the
// clock of the service, which runs until policy version 2 (2023-12-14).
var epoch = time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC)

// catchUp publishes the backlog to CROSSTALK (backlog_publish) and measures
// projector_catchup: a fresh store following the log with Store.Run until
// its checkpoint is the stream's last sequence. Then projector_catchup_feed:
// the same backlog into a second fresh store that publishes live feeds while
// a subscriber counts them. It returns the second store, which the service
// then serves from, publishing feeds as a node's views do.
func (r *runner) catchUp(ctx context.Context) (*projector.Store, error) {
	if err := r.publishBacklog(ctx); err != nil {
		return nil, err
	}
	last, err := r.env.log.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	store, err := r.env.openStore("catchup", nil)
	if err != nil {
		return nil, err
	}
	elapsed, err := r.follow(ctx, figCatchup, store, last, nil)
	if err != nil {
		return nil, err
	}
	r.add(Figure{Name: figCatchup, Value: rate(int(last), elapsed), Unit: "events/s", Count: int64(last), Elapsed: elapsed,
		Note: "fresh Pebble, Store.Run on the event log until checkpoint = last"})
	// The store is done with; its memory and files would only weigh on
	// the figures after it.
	if err := store.Close(); err != nil {
		return nil, err
	}
	return r.catchUpFeed(ctx, last)
}

// catchUpFeed measures projector_catchup_feed: projector_catchup with the
// store's feeds published on core NATS, and one subscriber to every feed
// counting what it receives. Its CPU per event, against projector_catchup's,
// is what feeds cost the projector, delivery by the broker included.
func (r *runner) catchUpFeed(ctx context.Context, last uint64) (*projector.Store, error) {
	feeds, err := r.env.feeds("crosstalk bench feeds")
	if err != nil {
		return nil, err
	}
	store, err := r.env.openStore("catchup-feed", feeds)
	if err != nil {
		return nil, err
	}
	counter, err := r.countFeeds()
	if err != nil {
		return nil, err
	}
	defer counter.stop()
	elapsed, err := r.follow(ctx, figCatchupFeed, store, last, counter.settle)
	if err != nil {
		return nil, err
	}
	n := counter.count()
	if n == 0 {
		return nil, fmt.Errorf("%w: none during %s", errNoNotifications, figCatchupFeed)
	}
	r.add(Figure{Name: figCatchupFeed, Value: rate(int(last), elapsed), Unit: "events/s", Count: int64(last), Elapsed: elapsed,
		Note: fmt.Sprintf("projector_catchup with feeds published; %d notifications (%.2f an event) to one subscriber of %s>",
			n, float64(n)/float64(last), api.FeedPrefix)})
	return store, nil
}

// follow runs store.Run on the event log until the store has applied last,
// as phase name, and returns how long that took. settle, when set, then
// waits inside the phase (its CPU counted, its time not) for what the
// store's last batches set off.
func (r *runner) follow(ctx context.Context, name string, store *projector.Store, last uint64,
	settle func(context.Context) error) (time.Duration, error) {
	var elapsed time.Duration
	err := r.phase(name, int64(last), func() int64 { return int64(store.Checkpoint()) }, func() error {
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- store.Run(runCtx, r.env.log) }()
		err := store.WaitFor(ctx, last)
		elapsed = time.Since(start)
		if err == nil && settle != nil {
			err = settle(ctx)
		}
		cancel()
		return errors.Join(err, <-done)
	})
	return elapsed, err
}

// publishBacklog publishes Backlog events: Conversations same-app
// conversations started, then messages round robin over them.
func (r *runner) publishBacklog(ctx context.Context) error {
	n := r.opts.Backlog
	convs := min(r.opts.Conversations, n)
	g := newGenerator(epoch, time.Millisecond, r.opts.TextSize, 0)
	ids := make([]string, convs)
	starters := make([]events.Account, convs)
	var sent atomic.Int64
	var elapsed time.Duration
	var pub *publisher
	err := r.phase("backlog_publish", int64(n), sent.Load, func() (err error) {
		if pub, err = newPublisher(r.env, "backlog publisher"); err != nil {
			return err
		}
		start := time.Now()
		for i := range n {
			var ev generated
			c := i % convs
			if i < convs {
				starters[c] = account(appA, "backlog-a", c)
				ids[c], ev, err = g.start(starters[c], account(appA, "backlog-b", c))
			} else {
				ev, err = g.send(ids[c], starters[c])
			}
			if err == nil {
				err = pub.publish(&nats.Msg{Subject: ev.subject, Data: ev.data}, ev.command)
			}
			if err != nil {
				return fmt.Errorf("event %d of the backlog: %w", i, err)
			}
			sent.Add(1)
		}
		err = pub.wait(ctx)
		elapsed = time.Since(start)
		return err
	})
	if err != nil {
		return err
	}
	r.add(Figure{Name: "backlog_publish", Value: rate(n, elapsed), Unit: "events/s", Count: int64(n), Elapsed: elapsed,
		Note: fmt.Sprintf("generate + encode + PublishAsync to CROSSTALK, %d conversations", convs)})
	return nil
}
