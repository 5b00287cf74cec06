package client

import (
	"context"
	"fmt"
	"time"

	fastjson "github.com/goccy/go-json"
	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
)

// Resync brings a client's state of an account up to date with queries
// that carry min_seq = fromSeq (api.QueryBase), the last Seq its feed
// delivered (0 at the start): what they answer includes every change the
// feed delivered, and any it may have missed.
type Resync func(ctx context.Context, fromSeq uint64) error

// feedBuffer is how many notifications Feed holds while the callbacks
// run; past it NATS drops them (a slow consumer), which Feed sees as a gap.
const feedBuffer = 4096

// feedFlush bounds the wait for the server to confirm the subscription.
const feedFlush = 5 * time.Second

// feedCheck is how often Feed looks for a reconnect while no notification
// arrives.
const feedCheck = time.Second

// Feed follows account's live feed (api.FeedSubject, docs/feeds.md) until
// ctx is done, and returns nil then. It subscribes, calls resync(ctx, 0)
// to load the state, then onChange with each notification in order. When
// it may have missed some, it calls resync again with the last Seq seen
// and goes on: when a notification's N is not the previous N + 1 (a lost
// notification, or feeds that started again after a rebuild), and after
// the connection reconnected (core NATS delivers nothing sent meanwhile).
// Notifications that arrive during a resync are delivered after it, and
// may repeat what it loaded: apply them idempotently (by Seq). An error
// from resync ends Feed with it.
func (c *Client) Feed(ctx context.Context, account string, onChange func(api.Notification), resync Resync) error {
	ch := make(chan *nats.Msg, feedBuffer)
	sub, err := c.nc.ChanSubscribe(api.FeedSubject(account), ch)
	if err != nil {
		return fmt.Errorf("subscribe to the feed of %s: %w", account, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := c.nc.FlushTimeout(feedFlush); err != nil { // the subscription is in place before the resync
		return fmt.Errorf("subscribe to the feed of %s: %w", account, err)
	}
	f := feedState{reconnects: c.nc.Stats().Reconnects}
	if err := resync(ctx, 0); err != nil {
		return err
	}
	tick := time.NewTicker(feedCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-ch:
			if err := f.deliver(ctx, m.Data, onChange, resync); err != nil {
				return err
			}
		case <-tick.C:
		}
		if r := c.nc.Stats().Reconnects; r != f.reconnects {
			f.reconnects = r
			if err := f.resync(ctx, resync); err != nil {
				return err
			}
		}
	}
}

// feedState is what Feed knows of the feed so far.
type feedState struct {
	lastSeq    uint64 // the highest Seq delivered
	lastN      uint64 // the previous N; 0 until one arrives after a resync
	reconnects uint64
}

// deliver decodes one notification, resyncs first if it follows a gap,
// and hands it on. A body that does not decode is skipped as a gap.
func (f *feedState) deliver(ctx context.Context, data []byte, onChange func(api.Notification), resync Resync) error {
	var n api.Notification
	if err := fastjson.Unmarshal(data, &n); err != nil {
		return f.resync(ctx, resync)
	}
	gap := f.lastN != 0 && n.N != f.lastN+1
	f.lastSeq = max(f.lastSeq, n.Seq) // committed: a resync from it sees what was missed
	if gap {
		if err := f.resync(ctx, resync); err != nil {
			return err
		}
	}
	f.lastN = n.N
	onChange(n)
	return nil
}

func (f *feedState) resync(ctx context.Context, resync Resync) error {
	f.lastN = 0
	return resync(ctx, f.lastSeq)
}
