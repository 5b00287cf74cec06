package node_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// benchConvs is how many conversations BenchmarkIntakeBacklog's commands
// go to, round robin, as the bench figure intake's do (1000 there).
const benchConvs = 1000

// BenchmarkIntakeBacklog measures the intake figure's path in a test
// binary: b.N message.send commands published while no consumer runs,
// then the time and the process's CPU (nats-server, the service, the
// projector: all in this process) from starting a consumer until every
// outcome is out. Its conversations are started, and so cached, first.
// Run it with a fixed -benchtime (20000x); cpu-ns/op is the figure.
func BenchmarkIntakeBacklog(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv := natstest.Start(b)
	n, err := node.Start(ctx, node.Options{Dir: b.TempDir(), NatsURL: srv.URL(), Logger: testkit.Quiet(), Roles: noIntake})
	if err != nil {
		b.Fatal(err)
	}
	stop, err := n.Background(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = stop() }()
	var decided atomic.Int64
	sub, err := n.Conn().Subscribe(api.OutcomeSubject("instagram"), func(*nats.Msg) { decided.Add(1) })
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	_ = sub.SetPendingLimits(-1, -1)
	js := srv.JetStream(b)
	convs := make([]string, benchConvs)
	for i := range convs {
		id := uuid.NewString()
		convs[i] = events.ConversationIDFor("instagram", id)
		benchPublish(ctx, b, js, api.ActionConversationStart, id, map[string]any{"participants": []string{"instagram:bob" + strconv.Itoa(i)}})
	}
	benchFlush(ctx, b, js)
	benchDrain(ctx, b, n, &decided, benchConvs)
	for i := range b.N {
		benchPublish(ctx, b, js, api.ActionMessageSend, uuid.NewString(), map[string]any{"conversation_id": convs[i%len(convs)], "text": "hello"})
	}
	benchFlush(ctx, b, js)
	b.ResetTimer()
	cpu := processCPU()
	benchDrain(ctx, b, n, &decided, int64(benchConvs+b.N))
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

// benchPublish publishes one intake command of instagram:alice, without
// waiting for its ack but for a window of them.
func benchPublish(ctx context.Context, b *testing.B, js jetstream.JetStream, action, id string, fields map[string]any) {
	fields["command_id"], fields["actor"] = id, "instagram:alice"
	data, _ := json.Marshal(fields)
	if _, err := js.PublishAsync(api.IntakeSubject("instagram", action), data, jetstream.WithMsgID(api.IntakeMsgID("instagram", id))); err != nil {
		b.Fatal(err)
	}
	if js.PublishAsyncPending() >= 4096 {
		benchFlush(ctx, b, js)
	}
}

// benchFlush waits for the acks of every intake command published.
func benchFlush(ctx context.Context, b *testing.B, js jetstream.JetStream) {
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		b.Fatal(ctx.Err())
	}
}

// benchDrain runs n's intake consumer until want outcomes are out.
func benchDrain(ctx context.Context, b *testing.B, n *node.Node, decided *atomic.Int64, want int64) {
	runCtx, stopRun := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.Intake().Consumer(n.Service()).Run(runCtx) }()
	for decided.Load() < want && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	stopRun()
	if err := <-done; err != nil || ctx.Err() != nil {
		b.Fatal(err, ctx.Err())
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
