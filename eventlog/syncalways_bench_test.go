package eventlog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// BenchmarkSyncAlwaysPublish measures issue 25's first route on a raw
// stream of a SyncAlways server: n asynchronous publishes (each with an
// expected last subject sequence and a Nats-Msg-Id, as an append has)
// against one atomic batch of the same n messages. One op is one message.
func BenchmarkSyncAlwaysPublish(b *testing.B) {
	for _, n := range []int{1, 8, 32, 128} {
		b.Run(fmt.Sprintf("singles-%d", n), func(b *testing.B) { benchRaw(b, n, publishSingles) })
		b.Run(fmt.Sprintf("batch-%d", n), func(b *testing.B) { benchRaw(b, n, publishBatch) })
	}
}

type rawPublish func(ctx context.Context, b *testing.B, js jetstream.JetStream, nc *nats.Conn, round, n int)

func benchRaw(b *testing.B, n int, publish rawPublish) {
	srv := natstest.StartSyncAlways(b)
	nc := srv.Connect(b)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"},
		Storage: jetstream.FileStorage, AllowAtomicPublish: true}); err != nil {
		b.Fatal(err)
	}
	start := processCPU()
	b.ResetTimer()
	rounds := (b.N + n - 1) / n
	for r := range rounds {
		publish(ctx, b, js, nc, r, n)
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-start).Microseconds())/float64(rounds*n), "cpu-µs/op")
}

// BenchmarkAppendParallelSyncAlways is BenchmarkAppendParallelSigned on a
// SyncAlways server, as `serve --sync-always` runs it: every append
// published alone (one fsync each) against group commit.
func BenchmarkAppendParallelSyncAlways(b *testing.B) {
	for _, group := range []bool{false, true} {
		b.Run(map[bool]string{false: "single", true: "group"}[group], func(b *testing.B) {
			srv := natstest.StartSyncAlways(b)
			l, err := eventlog.Open(context.Background(), srv.JetStream(b),
				eventlog.Options{GroupCommit: group, Signer: testkit.Signer(b), Logger: testkit.Quiet()})
			if err != nil {
				b.Fatal(err)
			}
			appendParallel(b, l)
		})
	}
}

func rawMsg(_, i int) *nats.Msg {
	return &nats.Msg{Subject: "raw." + strconv.Itoa(i), Data: make([]byte, 300), Header: nats.Header{}}
}

func publishSingles(ctx context.Context, b *testing.B, js jetstream.JetStream, _ *nats.Conn, r, n int) {
	futures := make([]jetstream.PubAckFuture, n)
	for i := range n {
		var err error
		futures[i], err = js.PublishMsgAsync(rawMsg(r, i), jetstream.WithMsgID(fmt.Sprintf("%d-%d", r, i)),
			jetstream.WithExpectLastSequencePerSubject(uint64(r*n+i+1-n)*min(uint64(r), 1)))
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			b.Fatal(err)
		}
	}
}

func publishBatch(ctx context.Context, b *testing.B, _ jetstream.JetStream, nc *nats.Conn, r, n int) {
	id := nats.NewInbox()[7:]
	var reply *nats.Msg
	for i := range n {
		m := rawMsg(r, i)
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%d-%d", r, i))
		m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(uint64(r*n+i+1-n)*min(uint64(r), 1), 10))
		if i < n-1 {
			if err := nc.PublishMsg(m); err != nil {
				b.Fatal(err)
			}
			continue
		}
		m.Header.Set("Nats-Batch-Commit", "1")
		var err error
		if reply, err = nc.RequestMsgWithContext(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	var ack struct {
		Seq   uint64          `json:"seq"`
		Count int             `json:"count"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(reply.Data, &ack); err != nil || ack.Error != nil || ack.Count != n {
		b.Fatalf("batch ack %s: %v", reply.Data, err)
	}
}
