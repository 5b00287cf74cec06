package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// A node started where commands wait in the single intake stream of
// before (CROSSTALK_INTAKE over crosstalk.intake.>, with a consumer of
// its) retires it, decides each of its commands exactly once and in order,
// and deletes it once drained; the app's stream of its own takes the new
// commands meanwhile.
func TestLegacyIntakeDrainedThenDeleted(t *testing.T) {
	const convs, perConv = 20, 5
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := natstest.Start(t)
	js := srv.JetStream(t)
	legacy, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: intake.LegacyStreamName, Subjects: []string{api.IntakePrefix + ">"},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Discard: jetstream.DiscardNew,
		Duplicates: intake.DefaultWindow, MaxMsgsPerSubject: 100_000, DiscardNewPerSubject: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := legacy.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "crosstalk-intake-app-instagram",
		FilterSubjects: []string{"crosstalk.intake.instagram.>"}, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	ids := publishBacklog(ctx, t, srv, convs, perConv)
	outcomes := countOutcomes(t, srv.Connect(t), "instagram")

	n := runNode(ctx, t, node.Options{Dir: t.TempDir(), NatsURL: srv.URL(), Logger: testkit.Quiet()})
	for seen := 0; seen < convs*(perConv+1); {
		select {
		case o := <-outcomes:
			if o.Reply == nil || o.Reply.Duplicate {
				t.Fatalf("outcome %+v: want a first success", o)
			}
			seen++
		case <-ctx.Done():
			t.Fatalf("%d outcomes of %d", seen, convs*(perConv+1))
		}
	}
	checkLog(ctx, t, n, ids, perConv)
	for {
		_, err := js.Stream(ctx, intake.LegacyStreamName)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the legacy stream is still there once drained: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	publishStart(ctx, t, srv.Connect(t), "instagram", "7d1f0a8e-3a4b-4c5d-8e9f-0a1b2c3d4e5f")
	if o := <-outcomes; o.Reply == nil || o.IntakeSeq != 1 {
		t.Errorf("the first command of instagram's own stream: %+v, want a success at intake_seq 1", o)
	}
}

// countOutcomes receives every outcome app's commands get.
func countOutcomes(t *testing.T, nc *nats.Conn, app string) chan api.Outcome {
	t.Helper()
	out := make(chan api.Outcome, 1024)
	sub, err := nc.Subscribe(api.OutcomeSubject(app), func(m *nats.Msg) {
		var o api.Outcome
		if json.Unmarshal(m.Data, &o) == nil {
			out <- o
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return out
}
