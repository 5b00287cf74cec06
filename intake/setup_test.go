package intake

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// openIntake opens the intake of apps on a new server.
func openIntake(ctx context.Context, t *testing.T, o Options) jetstream.JetStream {
	t.Helper()
	js := natstest.Start(t).JetStream(t)
	o.Logger = testkit.Quiet()
	if _, err := Open(ctx, js, o); err != nil {
		t.Fatal(err)
	}
	return js
}

// tryPublish publishes once, without the retries nats.go makes while a
// stream does not answer.
func tryPublish(ctx context.Context, js jetstream.JetStream, subject string, data []byte) error {
	_, err := js.Publish(ctx, subject, data, jetstream.WithRetryAttempts(0))
	return err
}

// An app that publishes to as many action subjects as it likes (real or
// invented) is refused past its stream's message limit, and another app's
// publish is still taken: the limit is the app's, not a subject's.
func TestAppLimitRefusesThatAppOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js := openIntake(ctx, t, Options{Apps: []string{"flood", "other"}, AppLimit: 5})
	for i := range 5 {
		if err := tryPublish(ctx, js, "crosstalk.intake.flood.invented"+strconv.Itoa(i), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	err := tryPublish(ctx, js, "crosstalk.intake.flood.invented5", []byte(`{}`))
	if err == nil || !strings.Contains(err.Error(), "maximum messages exceeded") {
		t.Errorf("flood's publish beyond its limit of 5: %v, want maximum messages exceeded", err)
	}
	if err := tryPublish(ctx, js, "crosstalk.intake.other.message.send", []byte(`{}`)); err != nil {
		t.Errorf("another app's publish: %v", err)
	}
}

// An app is refused past its stream's bytes, however few messages, and
// another app's publish is still taken.
func TestAppMaxBytesRefusesThatAppOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js := openIntake(ctx, t, Options{Apps: []string{"flood", "other"}, AppMaxBytes: 4096})
	body := make([]byte, 1024)
	var err error
	n := 0
	for ; n < 10 && err == nil; n++ {
		err = tryPublish(ctx, js, "crosstalk.intake.flood.message.send", body)
	}
	if err == nil || !strings.Contains(err.Error(), "maximum bytes exceeded") {
		t.Errorf("flood's publishes of 1 KiB into 4 KiB: %d taken, then %v; want maximum bytes exceeded", n-1, err)
	}
	if err := tryPublish(ctx, js, "crosstalk.intake.other.message.send", body); err != nil {
		t.Errorf("another app's publish: %v", err)
	}
}

// A publish for an app without an intake stream gets an error, not a
// place on the disk.
func TestPublishWithoutStreamIsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js := openIntake(ctx, t, Options{Apps: []string{"known"}})
	err := tryPublish(ctx, js, "crosstalk.intake.unknown.message.send", []byte(`{}`))
	if !errors.Is(err, jetstream.ErrNoStreamResponse) {
		t.Errorf("a publish for an app without a stream: %v, want %v", err, jetstream.ErrNoStreamResponse)
	}
}

// Lowered limits keep every message a stream holds: each is a command the
// stream acknowledged. With discard new, nats-server refuses publishes
// until the stream is under them again, and drops nothing.
func TestLoweredLimitsKeepQueuedCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js := openIntake(ctx, t, Options{Apps: []string{"flood"}, AppLimit: 5})
	for range 5 {
		if err := tryPublish(ctx, js, "crosstalk.intake.flood.message.send", make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(ctx, js, Options{Logger: testkit.Quiet(), Apps: []string{"flood"}, AppLimit: 2, AppMaxBytes: 200}); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, AppStream("flood"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, state := s.CachedInfo().Config, s.CachedInfo().State
	if cfg.MaxMsgs != 2 || cfg.MaxBytes != 200 || state.Msgs != 5 {
		t.Errorf("after lowering: limits %d messages, %d bytes, holding %d; want 2, 200, the 5 it acknowledged",
			cfg.MaxMsgs, cfg.MaxBytes, state.Msgs)
	}
	if err := tryPublish(ctx, js, "crosstalk.intake.flood.message.send", []byte(`{}`)); err == nil {
		t.Error("a publish over the lowered limit was taken")
	}
}

// Open refuses an app that can name no stream.
func TestOpenRefusesBadAppName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js := natstest.Start(t).JetStream(t)
	for _, app := range []string{"", "A", "a", "a.b", "a*", "a>"} {
		if _, err := Open(ctx, js, Options{Logger: testkit.Quiet(), Apps: []string{app}}); !errors.Is(err, ErrAppName) {
			t.Errorf("app %q: %v, want ErrAppName", app, err)
		}
	}
}
