package intake

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// idleWait is how long one wait for a first message lasts when the intake
// is empty; it bounds how long Run takes to notice its context is done.
const idleWait = time.Second

// Consumer decides the intake: it fetches batches, decides each through
// its Decider, publishes and keeps the outcomes, and acknowledges. Build it
// with Intake.Consumer; its caller runs it.
type Consumer struct {
	in  *Intake
	d   Decider
	obs Observer
	// internal counts the internal errors of each command (app/intake
	// seq) not yet answered (internalAgain). Run's goroutine alone uses it.
	internal map[string]int
}

// Consumer returns the consumer that decides the intake through d.
func (in *Intake) Consumer(d Decider) *Consumer {
	obs := in.opts.Observer
	if obs == nil {
		obs = noObserver{}
	}
	return &Consumer{in: in, d: d, obs: obs, internal: map[string]int{}}
}

// Run decides the intake until ctx is done, and returns nil then: a
// failure of JetStream is logged and retried, never the end. A batch under
// way when ctx is done is finished first: its decisions, outcomes and
// acknowledgements.
//
// Each app's intake has a consumer of its own, and a batch takes one
// message of each app in turn (lanes), so that no app's backlog holds up
// another's commands. Run starts by deleting the consumers, so that
// whatever a previous run fetched and did not acknowledge (it crashed,
// say) comes first again, in intake order; it does so again after a
// retryable refusal, for the same reason. So one node alone may run a
// Consumer on a stream at a time: the one holding the lease "intake"
// (package lease, Options.Holding; docs/reliability.md, "Singletons and
// fencing").
func (c *Consumer) Run(ctx context.Context) error {
	for c.serve(ctx) {
		sleep(ctx, c.in.opts.RetryDelay)
	}
	return nil
}

// serve resets the consumers, then decides batches until one is to be
// retried (retry) or ctx is done.
func (c *Consumer) serve(ctx context.Context) (retry bool) {
	if !c.resetUntil(ctx) {
		return false
	}
	lctx, cancel := context.WithCancel(ctx)
	ls := &lanes{c: c, ctx: lctx, byStream: map[string]*lane{}, arrivals: make(chan arrival)}
	defer ls.stop(cancel)
	for {
		msgs := ls.batch()
		if len(msgs) == 0 {
			return false
		}
		if _, ok := c.in.opts.Holding(); !ok {
			// Deposed: the lease cancels ctx at once; the batch stays
			// unacknowledged, and the new holder, which deletes the
			// consumers as it starts, gets it again.
			<-ctx.Done()
			return false
		}
		if c.handle(ctx, msgs) {
			return ctx.Err() == nil
		}
	}
}

// resetUntil deletes the consumers, trying again every RetryDelay while
// JetStream does not answer, until it succeeds (ok) or ctx is done. Each
// app's consumer is created again when its messages are found, and
// delivery starts over at its first message not acknowledged, which a
// work queue still holds.
func (c *Consumer) resetUntil(ctx context.Context) (ok bool) {
	for {
		err := deleteAllConsumers(ctx, c.in.js)
		switch {
		case ctx.Err() != nil:
			return false
		case err == nil:
			return true
		}
		c.in.logger().Warn("intake: reset the consumers", slog.Any("err", err))
		sleep(ctx, c.in.opts.RetryDelay)
	}
}

// fetch returns the messages waiting, up to a batch, without waiting; or,
// when none wait, waits up to idleWait for one and takes those behind it.
func (c *Consumer) fetch(ctx context.Context, cons jetstream.Consumer) ([]jetstream.Msg, error) {
	batch := c.in.opts.Batch
	msgs, err := collect(cons.FetchNoWait(batch))
	if len(msgs) > 0 || err != nil {
		return msgs, err
	}
	wait, cancel := context.WithTimeout(ctx, idleWait) // nats.go takes a context or a max wait, not both
	defer cancel()
	first, err := collect(cons.Fetch(1, jetstream.FetchContext(wait)))
	if len(first) == 0 || err != nil || batch == 1 {
		return first, err
	}
	more, err := collect(cons.FetchNoWait(batch - 1))
	return append(first, more...), err
}

// collect reads a fetched batch; running out of messages or of time is no
// error.
func collect(b jetstream.MessageBatch, err error) ([]jetstream.Msg, error) {
	if err != nil {
		return nil, err
	}
	var msgs []jetstream.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	err = b.Error()
	if errors.Is(err, jetstream.ErrNoMessages) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	return msgs, err
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

type noObserver struct{}

func (noObserver) IntakeDecided(string, string) {}
