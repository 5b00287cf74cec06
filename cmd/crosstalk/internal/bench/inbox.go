package bench

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

// inboxHubs is how many accounts the query phase asks for: each takes part
// in one conversation in inboxHubs, so its inbox grows with the store (100
// conversations at 10,000, 1,000 at 100,000) and a page is always full.
const inboxHubs = 100

// applyBatch is how many events one Apply gets: runs of a thousand, as a
// projector following a busy log sees them.
const applyBatch = 1000

// queryInbox builds a read model of InboxSmall conversations, measures
// inbox queries on it, grows it to InboxStore and measures again, with
// Clients clients and then with one. The service that answers runs on a
// log that never changes (frozenLog), so that the store holds exactly what
// was applied to it.
func (r *runner) queryInbox(ctx context.Context) error {
	store, err := r.env.openStore("inbox", nil)
	if err != nil {
		return err
	}
	nc, err := r.env.connect("crosstalk bench query service")
	if err != nil {
		return err
	}
	conns, err := r.clientConns()
	if err != nil {
		return err
	}
	b := &inboxBuilder{store: store, gen: newGenerator(epoch, time.Millisecond, r.opts.TextSize, 1)}
	svc := service.New(nc, frozenLog{store}, store, service.Options{Logger: r.opts.Logger, Limits: r.limits()})
	err = withService(ctx, svc, func(ctx context.Context) error {
		if err := r.buildInbox(b, r.opts.InboxSmall); err != nil {
			return err
		}
		if err := r.settle(ctx, store, fmt.Sprintf("inbox_settle_%d", r.opts.InboxSmall)); err != nil {
			return err
		}
		if err := r.measureInbox(ctx, figQuery+"_small", conns, r.opts.InboxSmall); err != nil {
			return err
		}
		if err := r.buildInbox(b, r.opts.InboxStore); err != nil {
			return err
		}
		if err := r.settle(ctx, store, fmt.Sprintf("inbox_settle_%d", r.opts.InboxStore)); err != nil {
			return err
		}
		if err := r.measureInbox(ctx, figQuery, conns, r.opts.InboxStore); err != nil {
			return err
		}
		if err := r.measureInbox(ctx, figQuery+"_1client", conns[:1], r.opts.InboxStore); err != nil {
			return err
		}
		if err := r.inboxFloor(ctx, conns[0]); err != nil {
			return err
		}
		r.add(Figure{Name: "projector_apply", Value: rate(b.events, b.applying), Unit: "events/s", Count: int64(b.events),
			Elapsed: b.applying, CPU: b.cpu, Note: "Store.Apply of generated events in runs of 1000, no NATS (cpu/op with generating them)"})
		return nil
	})
	if err != nil || r.env.ids == nil {
		return err
	}
	return r.queryInboxAuth(ctx, store)
}

// inboxFloor measures raw_request_reply_inbox with replies the size of a
// real first page of an inbox, read through nc.
func (r *runner) inboxFloor(ctx context.Context, nc *nats.Conn) error {
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	msg, err := nc.RequestWithContext(rctx, api.QuerySubject(api.QueryInbox), []byte(`{"account":"`+account(appA, "hub", 0)+`"}`))
	if err != nil {
		return fmt.Errorf("an inbox page for the floor's reply size: %w", err)
	}
	return r.rawRequestReplyInbox(ctx, len(msg.Data))
}

// queryInboxAuth measures query_inbox again, on the same store, through a
// service that enforces identities, with the clients connected as the app
// principal of appA: each query crosses the service import (nats-server
// writes the Nats-Request-Info header) and the service checks that the
// inbox asked for is of the caller's app.
func (r *runner) queryInboxAuth(ctx context.Context, store *projector.Store) error {
	nc, err := r.env.connect("crosstalk bench query service (identities)")
	if err != nil {
		return err
	}
	conns, err := r.appConns()
	if err != nil {
		return err
	}
	svc := service.New(nc, frozenLog{store}, store, service.Options{Logger: r.opts.Logger, EnforceIdentity: true, Limits: r.limits()})
	return withService(ctx, svc, func(ctx context.Context) error {
		return r.measureInbox(ctx, figQueryAuth, conns, r.opts.InboxStore)
	})
}

// settle waits, in a phase of its own, until the store built in bulk has
// no compaction running or owed, so that the queries measure the store as
// it is in steady state, not the compactions its build left behind.
func (r *runner) settle(ctx context.Context, store *projector.Store, name string) error {
	return r.phase(name, 1, func() int64 { return 0 }, func() error {
		return store.Settle(ctx)
	})
}

// measureInbox asks crosstalk.query.inbox for the first page (20) of a hub's
// inbox in a loop on each connection, for Duration.
func (r *runner) measureInbox(ctx context.Context, name string, conns []*nats.Conn, size int) error {
	var l latencies
	var elapsed time.Duration
	err := r.timedPhase(name, r.opts.Duration, func() (err error) {
		l, elapsed, err = workers(ctx, len(conns), r.opts.Duration, func(ctx context.Context, w, i int) error {
			hub := account(appA, "hub", (w*31+i)%inboxHubs)
			var page api.InboxPage
			rctx, cancel := context.WithTimeout(ctx, requestTimeout) // a lost reply must not hang the bench
			defer cancel()
			if err := client.New(conns[w]).Query(rctx, "inbox", map[string]any{"account": hub}, &page); err != nil {
				return err
			}
			if len(page.Items) == 0 {
				return fmt.Errorf("the inbox of %s is empty; the store was not built", hub)
			}
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	note := fmt.Sprintf("first page of 20, store of %d conversations, %s", size, plural(len(conns), "client"))
	if name == figQueryAuth {
		note += " as the app principal, identities enforced"
	}
	r.add(requestFigure(name, "queries/s", note, l, elapsed))
	return nil
}

// inboxBuilder grows the query phase's store.
type inboxBuilder struct {
	store    *projector.Store
	gen      *generator
	convs    int // conversations so far
	seq      uint64
	events   int
	applying time.Duration
	cpu      time.Duration // of the whole process while building
}

// buildInbox applies conversations until the store holds size: each a hub
// and a peer of another app, started by the peer, with one message from it.
func (r *runner) buildInbox(b *inboxBuilder, size int) error {
	name := fmt.Sprintf("inbox_store_%d", size)
	var made atomic.Int64
	made.Store(int64(b.convs))
	defer func() { b.cpu += r.phaseCPU }()
	return r.phase(name, int64(size), made.Load, func() error {
		batch := make([]events.Message, 0, applyBatch)
		for b.convs < size {
			peer := account(appB, "peer", b.convs)
			id, started, err := b.gen.start(peer, account(appA, "hub", b.convs%inboxHubs))
			if err != nil {
				return err
			}
			sent, err := b.gen.send(id, peer)
			if err != nil {
				return err
			}
			for _, ev := range []generated{started, sent} {
				b.seq++
				batch = append(batch, events.Message{Seq: b.seq, Subject: ev.subject, Data: ev.data})
			}
			b.convs++
			if len(batch) >= applyBatch || b.convs == size {
				if err := b.apply(batch); err != nil {
					return err
				}
				batch = batch[:0]
				made.Store(int64(b.convs))
			}
		}
		return nil
	})
}

func (b *inboxBuilder) apply(batch []events.Message) error {
	start := time.Now()
	if err := b.store.Apply(batch); err != nil {
		return err
	}
	b.applying += time.Since(start)
	b.events += len(batch)
	return nil
}

// withService runs svc until fn returns, and returns once svc has stopped.
func withService(ctx context.Context, svc *service.Service, fn func(context.Context) error) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx) }()
	select {
	case <-svc.Ready():
	case err := <-done:
		return fmt.Errorf("the service stopped before it was ready: %w", err)
	}
	err := fn(runCtx)
	cancel()
	return errors.Join(err, <-done)
}

// frozenLog is a service.Log that holds no events beyond what its store has
// applied and takes no appends: the query phase serves a store built by
// Apply, and must not follow the real stream into it.
type frozenLog struct{ store *projector.Store }

// errFrozen refuses an append to a frozenLog.
var errFrozen = errors.New("the query phase's log is read-only")

func (frozenLog) Append(context.Context, string, uint64, string, []byte) (uint64, bool, error) {
	return 0, false, errFrozen
}

func (frozenLog) AppendAll(_ context.Context, entries []eventlog.Entry) []eventlog.Result {
	results := make([]eventlog.Result, len(entries))
	for i := range results {
		results[i].Err = errFrozen
	}
	return results
}

func (frozenLog) LoadPage(context.Context, string, uint64) ([]events.Message, bool, error) {
	return nil, false, nil
}

func (frozenLog) LastSeqOn(context.Context, string) (uint64, error) { return 0, nil }

func (frozenLog) Get(_ context.Context, seq uint64) (events.Message, error) {
	return events.Message{}, fmt.Errorf("seq %d: %w", seq, eventlog.ErrNotFound)
}

func (l frozenLog) LastSeq(context.Context) (uint64, error) { return l.store.Checkpoint(), nil }

// Read has nothing to pass on: it waits until ctx is done.
func (frozenLog) Read(ctx context.Context, _ uint64, _ int, _ func([]events.Message) error) error {
	<-ctx.Done()
	return nil
}
