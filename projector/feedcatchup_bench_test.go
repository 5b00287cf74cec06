package projector_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/feed"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// BenchmarkCatchUpFeeds is BenchmarkCatchUp with the live feeds on (the
// bench's projector_catchup_feed in small): the catch-up publishes each
// batch's notifications to a real nats-server nobody subscribes to.
func BenchmarkCatchUpFeeds(b *testing.B) {
	const backlog, convs = 20_000, 1000
	srv := natstest.Start(b)
	js := srv.JetStream(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	log, err := eventlog.Open(ctx, js, eventlog.Options{Logger: testkit.Quiet()})
	if err != nil {
		b.Fatal(err)
	}
	publishBacklog(ctx, b, js, backlog, convs)
	nc := srv.Connect(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for range b.N {
		s, err := projector.Open(projector.Options{Dir: b.TempDir(), Logger: testkit.Quiet(), Feeds: feed.New(nc)})
		if err != nil {
			b.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(runCtx, log) }()
		err = s.WaitFor(ctx, backlog)
		stop()
		if err := errors.Join(err, <-done, s.Close()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N*backlog), "cpu-us/event")
}
