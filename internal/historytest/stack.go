package historytest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

// Stack is an in-process nats-server with the event log open on it: what
// the tests that run the real service start from.
type Stack struct {
	Ctx context.Context
	NC  *nats.Conn
	JS  jetstream.JetStream
	Log *eventlog.Log
}

// StartStack starts a nats-server for the test and opens the log on it.
func StartStack(t *testing.T) Stack {
	t.Helper()
	srv := natstest.Start(t)
	nc := srv.Connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	log, err := eventlog.Open(ctx, js, eventlog.Options{Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return Stack{Ctx: ctx, NC: nc, JS: js, Log: log}
}

// SeedClock is where the stories start: before policy version 1's effect.
func SeedClock() *service.SimClock {
	return service.NewSimClock(time.Date(2020, 10, 1, 12, 0, 0, 0, time.UTC))
}

// RunService runs the service on st with a fresh Pebble store in a test
// directory until the test ends, checks quickly for due policies and
// rescans soon (like the demo), and returns once it is ready.
func RunService(t *testing.T, st Stack, opts service.Options) *projector.Store {
	t.Helper()
	store, err := projector.Open(projector.Options{Dir: t.TempDir(), Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger, opts.PolicyCheckInterval, opts.CloseGrace = testkit.Quiet(), 10*time.Millisecond, 50*time.Millisecond
	svc := service.New(st.NC, st.Log, store, opts)
	ctx, stop := context.WithCancel(st.Ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("service run: %v", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	select {
	case <-svc.Ready():
	case err := <-done:
		t.Fatalf("service stopped before it was ready: %v", err)
	}
	return store
}
