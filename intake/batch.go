package intake

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// handle decides one batch, publishes and keeps its outcomes, then
// acknowledges the messages decided and naks those to retry. It reports
// whether any is to be retried. A batch, once fetched, is finished even
// after ctx is done: a shutdown drains it.
func (c *Consumer) handle(ctx context.Context, msgs []jetstream.Msg) (retry bool) {
	ctx = context.WithoutCancel(ctx)
	items := make([]*item, len(msgs))
	for i, m := range msgs {
		items[i] = parse(m)
	}
	// The lanes interleave the apps' streams, each message after the
	// earlier ones of its stream: an app's commands stay in intake order.
	// Sequences of two streams do not compare, so no order across apps.
	c.decide(ctx, items)
	kept := c.publish(items)
	for i, it := range items {
		switch {
		case it.left:
		case it.retry || !kept[i]:
			retry = true
			if err := it.msg.NakWithDelay(c.in.opts.RetryDelay); err != nil {
				c.in.logger().Warn("intake: nak failed", slog.Any("err", err))
			}
		default:
			c.obs.IntakeDecided(it.action, codeOf(it.outcome))
			if err := it.msg.Ack(); err != nil {
				c.in.logger().Warn("intake: ack failed", slog.Any("err", err))
			}
		}
	}
	return retry
}

// decide decides the batch: a bad message at once, the others in waves.
// A wave takes the first undecided command of each aggregate, up to
// Options.Workers of them, so that the Decider decides and appends them
// together; an aggregate's next command waits for the next wave, so each
// aggregate's are decided in intake order. The lease is asked before each
// wave: once it is lost, what is left of the batch is left alone for the
// new holder (a deposed holder decides nothing more, even mid-batch).
func (c *Consumer) decide(ctx context.Context, items []*item) {
	var order []string
	groups := map[string][]*item{}
	for _, it := range items {
		if it.bad != nil {
			c.refuse(it, it.bad)
			continue
		}
		if _, ok := groups[it.key]; !ok {
			order = append(order, it.key)
		}
		groups[it.key] = append(groups[it.key], it)
	}
	for len(order) > 0 {
		if _, ok := c.in.opts.Holding(); !ok {
			leave(order, groups)
			return
		}
		n := min(len(order), c.in.opts.Workers)
		c.decideWave(ctx, order[:n], groups)
		order = slices.DeleteFunc(order, func(key string) bool { return len(groups[key]) == 0 })
	}
}

// leave marks every command still in the groups of keys as left.
func leave(keys []string, groups map[string][]*item) {
	for _, key := range keys {
		for _, it := range groups[key] {
			it.left = true
		}
	}
}

// decideWave decides the first command of each group of keys and takes it
// off its group. A retryable refusal ends its group there: that command
// and every later one of the group wait for their next delivery, so that
// none overtakes it.
func (c *Consumer) decideWave(ctx context.Context, keys []string, groups map[string][]*item) {
	cmds := make([]Command, len(keys))
	for i, key := range keys {
		it := groups[key][0]
		cmds[i] = Command{App: events.App(it.app), Action: it.action, Body: it.msg.Data()}
	}
	for i, d := range c.d.IntakeAll(ctx, cmds) {
		group := groups[keys[i]]
		groups[keys[i]] = group[1:]
		if d.Err == nil {
			group[0].outcome.Reply = &d.Reply
			continue
		}
		werr := c.d.WireError(d.Err)
		if retryable(werr) || werr.Code == api.CodeInternal && c.internalAgain(group[0], d.Err) {
			for _, later := range group {
				later.retry = true
			}
			groups[keys[i]] = nil
			continue
		}
		group[0].outcome.Error = &werr
	}
}

// refuse makes e the outcome of it, with the policy version in force.
func (c *Consumer) refuse(it *item, e *api.Error) {
	werr := c.d.WireError(e)
	it.outcome.Error = &werr
}

// internalDeliveries is how many times a command refused with an internal
// error is delivered before that refusal is its outcome: the error says
// its outcome is unknown and to retry, so the intake does, a few times,
// and a command that fails so every time (a bug, not a passing state) is
// answered rather than retried for ever.
const internalDeliveries = 5

// internalAgain counts an internal error of it and reports whether it is
// to be delivered again. The count is the consumer's, in memory: the
// consumers are made anew at every reset, so JetStream's delivery count
// starts over too.
func (c *Consumer) internalAgain(it *item, err error) bool {
	key := it.app + "/" + strconv.FormatUint(it.outcome.IntakeSeq, 10)
	c.internal[key]++
	n := c.internal[key]
	c.in.logger().Error("intake: internal error", slog.String("action", it.action),
		slog.Uint64("intake_seq", it.outcome.IntakeSeq), slog.Int("attempt", n), slog.Any("err", err))
	if n < internalDeliveries {
		return true
	}
	delete(c.internal, key)
	return false
}

// retryable reports whether a refusal passes by itself (the log has no
// leader, its stream is being repaired, the views lag): the command is
// delivered again rather than answered.
func retryable(e api.Error) bool { return e.Status == "503" || e.Status == "504" }

func codeOf(o api.Outcome) string {
	if o.Error != nil {
		return o.Error.Code
	}
	return "ok"
}

// publish puts each decided item's outcome in the outcomes bucket, all at
// once, waits for the bucket's acknowledgements, and only then publishes
// each on its app's outcome subject: a producer that reads
// crosstalk.query.command on seeing an outcome finds it kept. kept[i] is
// false where items[i] is to be retried or its outcome was not stored.
func (c *Consumer) publish(items []*item) (kept []bool) {
	kept = make([]bool, len(items))
	futures := make([]jetstream.PubAckFuture, len(items))
	data := make([][]byte, len(items))
	for i, it := range items {
		if it.retry || it.left {
			continue
		}
		kept[i] = true
		data[i], _ = json.Marshal(it.outcome) // an Outcome always encodes
		if key := outcomeKey(it.app, it.outcome.CommandID); key != "" {
			var err error
			futures[i], err = c.in.js.PublishAsync("$KV."+OutcomesBucket+"."+key, data[i])
			kept[i] = err == nil
		}
	}
	wait, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	for i, f := range futures {
		if f != nil {
			kept[i] = c.stored(wait, f)
		}
	}
	c.announce(items, data)
	return kept
}

// announce publishes the outcomes of the decided items (data[i] of
// items[i]) on their apps' outcome subjects.
func (c *Consumer) announce(items []*item, data [][]byte) {
	for i, it := range items {
		if it.retry || it.left || it.app == "" {
			continue
		}
		if err := c.in.nc.Publish(api.OutcomeSubject(it.app), data[i]); err != nil {
			c.in.logger().Warn("intake: publish outcome", slog.Any("err", err))
		}
	}
}

// storeTimeout bounds the wait for one put of the outcomes bucket; an
// outcome not stored in time is decided again (a duplicate) later.
const storeTimeout = 10 * time.Second

// stored waits for one put of the outcomes bucket.
func (c *Consumer) stored(wait context.Context, f jetstream.PubAckFuture) bool {
	select {
	case <-f.Ok():
		return true
	case err := <-f.Err():
		c.in.logger().Warn("intake: keep outcome", slog.Any("err", err))
	case <-wait.Done():
		c.in.logger().Warn("intake: keep outcome: no acknowledgement", slog.Duration("after", storeTimeout))
	}
	return false
}
