package projector_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/feed"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// catchUpBacklog is how many events BenchmarkCatchUp's stores catch up
// with; -catchup.backlog 200000 is the bench's size, where Pebble flushes
// and compacts as it does in projector_catchup.
var catchUpBacklog = flag.Int("catchup.backlog", 20_000, "how many events BenchmarkCatchUp catches up with")

// BenchmarkCatchUp is the bench's projector_catchup in small: a fresh store
// follows a real in-process JetStream stream with Store.Run until it has
// applied a backlog of -catchup.backlog (20,000) events (1000 conversations started, then
// messages round robin over them), so it measures the fetch, the decode and
// the apply together, as the catch-up does. With feeds=on the store also
// publishes the live feeds to the server, nobody subscribed
// (projector_catchup_feed in small).
func BenchmarkCatchUp(b *testing.B) {
	backlog, convs := *catchUpBacklog, 1000
	srv := natstest.Start(b)
	js := srv.JetStream(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	log, err := eventlog.Open(ctx, js, eventlog.Options{Logger: testkit.Quiet()})
	if err != nil {
		b.Fatal(err)
	}
	publishBacklog(ctx, b, js, backlog, convs)
	for _, feeds := range []bool{false, true} {
		b.Run(map[bool]string{false: "feeds=off", true: "feeds=on"}[feeds], func(b *testing.B) {
			o := projector.Options{Logger: testkit.Quiet()}
			if feeds {
				o.Feeds = feed.New(srv.Connect(b))
			}
			catchUp(ctx, b, log, o, backlog)
		})
	}
}

// catchUp measures b.N fresh stores of o catching up with log's backlog.
func catchUp(ctx context.Context, b *testing.B, log *eventlog.Log, o projector.Options, backlog int) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	var runs atomic.Int64
	o.OnApplied = func(int, int) { runs.Add(1) }
	for range b.N {
		o.Dir = b.TempDir()
		s, err := projector.Open(o)
		if err != nil {
			b.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(runCtx, log) }()
		err = s.WaitFor(ctx, uint64(backlog))
		stop()
		if err := errors.Join(err, <-done, s.Close()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*backlog)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*backlog), "us/event")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N*backlog), "cpu-us/event")
	b.ReportMetric(float64(b.N*backlog)/float64(runs.Load()), "events/run")
}

// publishBacklog publishes n events over convs conversations to the stream.
func publishBacklog(ctx context.Context, b *testing.B, js jetstream.JetStream, n, convs int) {
	ids := make([]string, convs)
	at := time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		at = at.Add(time.Millisecond)
		c := i % convs
		var typ events.Type
		var data any
		if i < convs {
			ids[c] = events.NewID()
			typ, data = events.ConversationStarted, testkit.Started(ids[c], account("a", c), account("b", c))
		} else {
			typ, data = events.MessageSent, events.MessageSentData{MessageID: events.NewID(), Sender: account("a", c),
				Text: "a message of ordinary length, about fifty bytes"}
		}
		e, err := events.New(typ, ids[c], at, events.NewID(), 1, data)
		if err != nil {
			b.Fatal(err)
		}
		e.ID = events.NewID()
		if _, err := js.PublishAsync(events.ConversationSubject(ids[c]), testkit.Encode(b, e)); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		b.Fatal(ctx.Err())
	}
}

func account(side string, n int) events.Account {
	return events.Account(fmt.Sprintf("instagram:bench-%s-%d", side, n))
}

// cpuTime is the CPU time (user and system) the process has used: the
// store's, the nats-server's and the client's, as the bench's cpu/op counts.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
