package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

// BenchmarkQueryInbox drives crosstalk.query.inbox as query_inbox does (the
// first page of a hub's inbox, each client waiting for its reply) on an
// in-process nats-server and a store of 10,000 conversations, with 32
// clients and with one, next to a core NATS echo of the same shape: its
// cpu-ns/op is the floor the query is held to (3×). cpu-ns/op is the whole
// process's CPU, broker included, as the bench's cpu/op.
func BenchmarkQueryInbox(b *testing.B) {
	srv := natstest.Start(b)
	store, err := projector.Open(projector.Options{Dir: b.TempDir(), Logger: testkit.Quiet()})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	if err := buildBenchInbox(store, 10_000); err != nil {
		b.Fatal(err)
	}
	svcConn := srv.Connect(b)
	svc := service.New(svcConn, frozenLog{store}, store, service.Options{Logger: testkit.Quiet()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-svc.Ready()
	echo := srv.Connect(b)
	if _, err := echo.QueueSubscribe(echoSubject, "q", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		b.Fatal(err)
	}
	conns := make([]*nats.Conn, 32)
	for i := range conns {
		conns[i] = srv.Connect(b)
	}
	inbox := func(ctx context.Context, nc *nats.Conn, w, i int) error {
		var page api.InboxPage
		hub := account(appA, "hub", (w*31+i)%inboxHubs)
		if err := client.New(nc).Query(ctx, "inbox", map[string]any{"account": hub}, &page); err != nil {
			return err
		}
		if len(page.Items) != api.DefaultPageSize {
			return fmt.Errorf("%d items, want %d", len(page.Items), api.DefaultPageSize)
		}
		return nil
	}
	body := make([]byte, 200)
	raw := func(ctx context.Context, nc *nats.Conn, _, _ int) error {
		_, err := nc.RequestWithContext(ctx, echoSubject, body)
		return err
	}
	for _, n := range []int{32, 1} {
		b.Run(fmt.Sprintf("inbox/clients=%d", n), func(b *testing.B) { drive(b, conns[:n], inbox) })
		b.Run(fmt.Sprintf("raw/clients=%d", n), func(b *testing.B) { drive(b, conns[:n], raw) })
	}
}

// drive runs b.N calls of op spread over conns, one in flight on each, and
// reports the process's CPU per call and the 99th percentile latency.
func drive(b *testing.B, conns []*nats.Conn, op func(ctx context.Context, nc *nats.Conn, w, i int) error) {
	ctx := context.Background()
	var next atomic.Int64
	per := make([]latencies, len(conns))
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	cpu := processCPU()
	for w := range conns {
		wg.Go(func() {
			for i := 0; next.Add(1) <= int64(b.N); i++ {
				t := time.Now()
				if err := op(ctx, conns[w], w, i); err != nil {
					failed.Store(err)
					return
				}
				per[w] = append(per[w], time.Since(t))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
	var all latencies
	for _, l := range per {
		all = append(all, l...)
	}
	b.ReportMetric(float64(all.percentile(99).Microseconds()), "p99-µs")
}

// buildBenchInbox applies size conversations as buildInbox does.
func buildBenchInbox(store *projector.Store, size int) error {
	ib := &inboxBuilder{store: store, gen: newGenerator(epoch, time.Millisecond, DefaultTextSize, 1)}
	batch := make([]events.Message, 0, applyBatch)
	for ib.convs < size {
		peer := account(appB, "peer", ib.convs)
		id, started, err := ib.gen.start(peer, account(appA, "hub", ib.convs%inboxHubs))
		if err != nil {
			return err
		}
		sent, err := ib.gen.send(id, peer)
		if err != nil {
			return err
		}
		for _, ev := range []generated{started, sent} {
			ib.seq++
			batch = append(batch, events.Message{Seq: ib.seq, Subject: ev.subject, Data: ev.data})
		}
		ib.convs++
		if len(batch) >= applyBatch || ib.convs == size {
			if err := ib.apply(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return store.Settle(context.Background())
}
