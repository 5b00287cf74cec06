package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/service"
)

// Bounds of the intake figure's wait for its last outcome.
const (
	// intakeStall is how long the intake may decide nothing before the
	// phase gives up.
	intakeStall = time.Minute
	// intakePoll is how often the phase looks at the outcomes counted.
	intakePoll = 2 * time.Millisecond
)

// intakeFigure measures intake: IntakeBacklog message.send commands
// published to the durable intake, over cmd_send's conversations, while no
// intake consumer runs (a producer publishing while crosstalk is down),
// then the time and the process's CPU from starting a consumer on svc until
// every command is decided: as many outcomes as commands, and the consumer
// with nothing pending or unacknowledged. Every command must succeed.
//
// svc is a new service, its aggregate cache empty, and loading a
// conversation from a long stream whose subjects interleave costs far more
// than deciding a command (docs/performance-history.md, "Durable intake"); so one
// untimed command per conversation first loads them, as cmd_send_auth
// does, and the figure is the intake's own.
func (r *runner) intakeFigure(ctx context.Context, svc *service.Service, convs []sendConv) error {
	in, err := intake.Open(ctx, r.env.js, intake.Options{Logger: r.opts.Logger,
		Apps: []string{string(appA)}, AppLimit: int64(max(r.opts.IntakeBacklog, intake.DefaultAppLimit))})
	if err != nil {
		return err
	}
	conns, err := r.clientConns()
	if err != nil {
		return err
	}
	if err := r.warm(ctx, conns, convs, text(r.opts.TextSize)); err != nil {
		return err
	}
	if err := r.publishIntake(ctx, convs); err != nil {
		return err
	}
	out, err := r.env.countOutcomes(string(appA))
	if err != nil {
		return err
	}
	defer out.stop()
	n := r.opts.IntakeBacklog
	var elapsed time.Duration
	err = r.phase(figIntake, int64(n), out.count.Load, func() error {
		start := time.Now()
		err := runConsumer(ctx, in.Consumer(svc), func(ctx context.Context) error {
			return out.waitAll(ctx, in, int64(n))
		})
		elapsed = time.Since(start)
		return err
	})
	if err != nil {
		return err
	}
	r.add(Figure{Name: figIntake, Value: rate(n, elapsed), Unit: "cmds/s", Count: int64(n), Elapsed: elapsed,
		Note: fmt.Sprintf("a backlog of message.send over %d conversations, published while no consumer ran, "+
			"decided in batches of %d from the consumer's start until the last was acknowledged", len(convs), intake.DefaultBatch)})
	return nil
}

// publishIntake publishes the backlog to appA's intake subject of
// message.send, round robin over convs, each command's key its Nats-Msg-Id,
// with the publisher of raw_js_async_pub. It is a phase of its own: not a
// figure, but something to watch.
func (r *runner) publishIntake(ctx context.Context, convs []sendConv) error {
	if len(convs) == 0 {
		return errors.New("no conversations to send to")
	}
	pub, err := newPublisher(r.env, "intake producer")
	if err != nil {
		return err
	}
	subject := api.IntakeSubject(string(appA), api.ActionMessageSend)
	txt := text(r.opts.TextSize)
	n := r.opts.IntakeBacklog
	return r.phase("intake_publish", int64(n), pub.acked.Load, func() error {
		for i := range n {
			conv := convs[i%len(convs)]
			id := events.NewID()
			body, err := json.Marshal(sendBody{CommandID: id, Actor: conv.actor[i/len(convs)%2], ConversationID: conv.id, Text: txt})
			if err != nil {
				return err
			}
			if err := pub.publish(&nats.Msg{Subject: subject, Data: body}, api.IntakeMsgID(string(appA), id)); err != nil {
				return err
			}
		}
		return pub.wait(ctx)
	})
}

// runConsumer runs c until wait returns, then stops it and waits for it.
func runConsumer(ctx context.Context, c *intake.Consumer, wait func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	err := wait(ctx)
	cancel()
	return errors.Join(err, <-done)
}

// outcomeCount counts the outcomes published on one app's outcome subject
// and keeps the first refusal.
type outcomeCount struct {
	sub     *nats.Subscription
	count   atomic.Int64
	mu      sync.Mutex
	refused int
	first   string
}

// countOutcomes subscribes to app's outcomes, without a limit on what may
// wait in the client: a dropped outcome would stall the phase.
func (e *env) countOutcomes(app string) (*outcomeCount, error) {
	o := &outcomeCount{}
	sub, err := e.nc.Subscribe(api.OutcomeSubject(app), o.add)
	if err != nil {
		return nil, err
	}
	o.sub = sub
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return nil, errors.Join(err, sub.Unsubscribe())
	}
	return o, e.nc.Flush()
}

func (o *outcomeCount) add(m *nats.Msg) {
	var out api.Outcome
	if err := json.Unmarshal(m.Data, &out); err != nil || out.Reply == nil {
		o.mu.Lock()
		if o.refused++; o.refused == 1 {
			o.first = string(m.Data)
		}
		o.mu.Unlock()
	}
	o.count.Add(1)
}

func (o *outcomeCount) stop() { _ = o.sub.Unsubscribe() }

// waitAll waits until n outcomes have come and the intake has nothing
// pending, and fails if any outcome was a refusal or the intake decides
// nothing for intakeStall.
func (o *outcomeCount) waitAll(ctx context.Context, in *intake.Intake, n int64) error {
	seen, since := int64(0), time.Now()
	for {
		got := o.count.Load()
		if got > seen {
			seen, since = got, time.Now()
		}
		if got >= n {
			pending, err := in.Pending(ctx)
			if err == nil && pending == 0 {
				return o.failure(n)
			}
		}
		if time.Since(since) > intakeStall {
			return fmt.Errorf("%d of %d outcomes, none for %s", got, n, intakeStall)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(intakePoll):
		}
	}
}

// failure is an error when an outcome was a refusal or more outcomes came
// than commands were published.
func (o *outcomeCount) failure(n int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.refused > 0 {
		return fmt.Errorf("%d of %d intake commands refused, first: %s", o.refused, n, o.first)
	}
	if got := o.count.Load(); got != n {
		return fmt.Errorf("%d outcomes for %d intake commands", got, n)
	}
	return nil
}
