package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

// BenchmarkQueryPath drives query.inbox through the whole service over an
// in-process nats-server, as the bench's query_inbox does on a smaller
// scale: 32 clients, one query each in flight, each reading the inbox of
// an account with 10 conversations. It reports the process's CPU per
// query (cpu-µs/op), broker and clients included.
func BenchmarkQueryPath(b *testing.B) {
	const clients, perAccount = 32, 10
	srv := natstest.Start(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := startBenchService(ctx, b, srv, true, nil)
	c := client.New(srv.Connect(b))
	var last uint64
	for a := range clients {
		for i := range perAccount {
			r, err := c.Command(ctx, "messenger", "conversation.start", map[string]any{"command_id": events.NewID(),
				"actor": fmt.Sprintf("messenger:q%d", a), "participants": []string{fmt.Sprintf("messenger:p%d", i)}})
			if err != nil {
				b.Fatal(err)
			}
			last = r.StreamSeq
		}
	}
	if err := store.WaitFor(ctx, last); err != nil {
		b.Fatal(err)
	}
	queryInboxes(ctx, b, srv, clients)
}

// queryInboxes runs b.N inbox queries from clients connections, one in
// flight each, and reports the process's CPU per query.
func queryInboxes(ctx context.Context, b *testing.B, srv *natstest.Server, clients int) {
	conns := make([]*client.Client, clients)
	for i := range conns {
		conns[i] = client.New(srv.Connect(b))
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for a := range clients {
		wg.Go(func() {
			var out json.RawMessage
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if err := conns[a].Query(ctx, "inbox", map[string]any{"account": fmt.Sprintf("messenger:q%d", a), "limit": 20}, &out); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu0)/1e3/float64(b.N), "cpu-µs/op")
}
