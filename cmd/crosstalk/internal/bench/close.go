package bench

import (
	"context"
	"fmt"
	"github.com/crosstalk-dev/crosstalk/clock"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

// v2File is the shipped policy that disconnects Instagram and Messenger.
const v2File = "v2-2023-12-cross-app-disconnect.json"

// Polling of the policy report while the closer works, and how long it may
// go without closing anything before the bench gives up.
const (
	pollEvery  = 20 * time.Millisecond
	closeStall = time.Minute
)

// policyClose starts Close cross-app conversations (conversation.started
// events published straight to the stream, valid and chained), waits until
// the read model has them, publishes policy version 2 ahead of its
// effective time, and then moves the clock past it: policy_close is the time
// from that move until crosstalk.query.policy reports version 2 applied.
func (r *runner) policyClose(ctx context.Context, cl *client.Client, store *projector.Store, clock *clock.Sim) error {
	if err := r.startCrossApp(ctx, store, clock.Now()); err != nil {
		return err
	}
	// The setup writes 100,000 conversations in about 3 s, just before
	// the policy takes effect; in production they exist long before it.
	// Measuring the closer while Pebble still compacts the setup's writes
	// charged it ~8µs per closing of compactions that are not its own.
	if err := r.settle(ctx, store, "close_settle"); err != nil {
		return err
	}
	doc, err := policies.Read(v2File)
	if err != nil {
		return err
	}
	v2, err := aggregate.ParsePolicy(doc)
	if err != nil {
		return err
	}
	if _, err := publishPolicy(ctx, cl, v2File); err != nil {
		return err
	}
	var closed atomic.Int64
	var applied, allClosed time.Duration
	err = r.phase(figClose, int64(r.opts.Close), closed.Load, func() (err error) {
		start := time.Now()
		clock.Set(v2.EffectiveAt.Add(time.Second))
		allClosed, err = r.waitApplied(ctx, cl, v2.Version, start, &closed)
		applied = time.Since(start)
		return err
	})
	if err != nil {
		return err
	}
	n := closed.Load()
	note := fmt.Sprintf("%d closed through the command path; checks every %s, rescan after %s", n, policyCheckInterval, closeGrace)
	r.add(Figure{Name: figClose, Value: applied.Seconds(), Unit: "s", Count: n, Elapsed: applied, Note: note})
	r.add(Figure{Name: figClose + "_all_closed", Value: allClosed.Seconds(), Unit: "s", Count: n, Elapsed: allClosed,
		Note: "until every affected conversation is closed in the read model"})
	return nil
}

// startCrossApp publishes Close conversation.started events between an
// Instagram and a Messenger account, decided under policy version 1, and
// waits until store has applied them.
func (r *runner) startCrossApp(ctx context.Context, store *projector.Store, now time.Time) error {
	n := r.opts.Close
	g := newGenerator(now.Add(-time.Hour), time.Microsecond, r.opts.TextSize, 1)
	base := store.Checkpoint()
	var published atomic.Int64
	// Progress: publishing is the first half, projecting the second.
	done := func() int64 { return (published.Load() + int64(store.Checkpoint()-base)) / 2 }
	return r.phase("close_setup", int64(n), done, func() error {
		pub, err := newPublisher(r.env, "close publisher")
		if err != nil {
			return err
		}
		for i := range n {
			_, ev, err := g.start(account(appA, "close-a", i), account(appB, "close-b", i))
			if err == nil {
				err = pub.publish(&nats.Msg{Subject: ev.subject, Data: ev.data}, ev.command)
			}
			if err != nil {
				return fmt.Errorf("conversation %d: %w", i, err)
			}
			published.Add(1)
		}
		if err := pub.wait(ctx); err != nil {
			return err
		}
		last, err := r.env.log.LastSeq(ctx)
		if err != nil {
			return err
		}
		return store.WaitFor(ctx, last)
	})
}

// waitApplied polls the policy report until version is applied. It
// reports the conversations closed so far in closed, and returns when all
// affected ones were closed, measured from start.
func (r *runner) waitApplied(ctx context.Context, cl *client.Client, version uint64, start time.Time, closed *atomic.Int64) (time.Duration, error) {
	var allClosed time.Duration
	lastChange := time.Now()
	for {
		st, err := policyStatus(ctx, cl, version)
		if err != nil {
			return 0, err
		}
		if int64(st.Closed) != closed.Load() {
			closed.Store(int64(st.Closed))
			lastChange = time.Now()
		}
		if allClosed == 0 && st.Affected > 0 && st.Closed >= st.Affected {
			allClosed = time.Since(start)
		}
		switch {
		case st.Applied && st.Closed < r.opts.Close:
			return 0, fmt.Errorf("policy version %d applied having closed %d conversations, want %d", version, st.Closed, r.opts.Close)
		case st.Applied:
			return max(allClosed, time.Nanosecond), nil
		case time.Since(lastChange) > closeStall:
			return 0, fmt.Errorf("the closer closed nothing for %s (%d of %d closed)", closeStall, st.Closed, r.opts.Close)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// policyStatus asks crosstalk.query.policy for one version.
func policyStatus(ctx context.Context, cl *client.Client, version uint64) (api.PolicyStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var rep api.PolicyReport
	if err := cl.Query(ctx, "policy", struct{}{}, &rep); err != nil {
		return api.PolicyStatus{}, err
	}
	for _, v := range rep.Versions {
		if v.Version == version {
			return v, nil
		}
	}
	return api.PolicyStatus{}, fmt.Errorf("policy version %d is not in the policy report", version)
}

// rebuild replays the whole stream into a fresh Pebble store through
// service.SwapViews, the way an operator rebuilds the read model, while the
// service keeps answering from the old one.
func (r *runner) rebuild(ctx context.Context, svc *service.Service) error {
	last, err := r.env.log.LastSeq(ctx)
	if err != nil {
		return err
	}
	fresh, err := r.env.openStore("rebuild", nil)
	if err != nil {
		return err
	}
	var elapsed time.Duration
	err = r.phase("rebuild", int64(last), func() int64 { return int64(fresh.Checkpoint()) }, func() error {
		start := time.Now()
		old, err := svc.SwapViews(ctx, fresh)
		elapsed = time.Since(start)
		if err != nil {
			return err
		}
		return old.Close()
	})
	if err != nil {
		return err
	}
	r.add(Figure{Name: "rebuild", Value: elapsed.Seconds(), Unit: "s", Count: int64(last), Elapsed: elapsed,
		Note: fmt.Sprintf("%d events into a fresh Pebble via SwapViews", last)})
	r.add(Figure{Name: "rebuild_rate", Value: rate(int(last), elapsed), Unit: "events/s", Count: int64(last), Elapsed: elapsed,
		Note: "the same replay, per event"})
	return nil
}
