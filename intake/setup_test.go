package intake

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// A stream that already holds more on a subject than a new, lower limit
// keeps every message: nats-server would delete the oldest to enforce it,
// and each is a command the stream acknowledged. A publish beyond the
// limit is refused; another subject still takes its own.
func TestLimitNeverDropsQueuedCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := natstest.Start(t)
	js, err := jetstream.New(srv.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, js, Options{Logger: testkit.Quiet(), SubjectLimit: 5}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := js.Publish(ctx, "crosstalk.intake.flood.message.send", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := js.Publish(ctx, "crosstalk.intake.flood.message.send", []byte(`{}`), jetstream.WithRetryAttempts(0)); err == nil {
		t.Error("a publish beyond the subject's limit was taken")
	}
	if _, err := js.Publish(ctx, "crosstalk.intake.other.message.send", []byte(`{}`)); err != nil {
		t.Errorf("another app's publish: %v", err)
	}
	if _, err := Open(ctx, js, Options{Logger: testkit.Quiet(), SubjectLimit: 2}); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.CachedInfo().State.Msgs; n != 6 {
		t.Errorf("the stream holds %d messages after the limit was lowered, want the 6 it acknowledged", n)
	}
}
