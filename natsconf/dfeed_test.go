package natsconf

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
)

// dfeedWorld is a server under a generated configuration whose service
// keeps the durable feeds of instagram and messenger, and has made each
// app account's copy.
func dfeedWorld(ctx context.Context, t *testing.T) (Config, string, jetstream.JetStream) {
	t.Helper()
	c, url := startServer(t)
	svc := newJS(t, connectAs(t, c, url, PrincipalService))
	for _, app := range []string{"instagram", "messenger"} {
		if _, err := svc.CreateStream(ctx, jetstream.StreamConfig{Name: api.DurableFeedStream(app),
			Subjects: []string{api.DurableFeedSubjects(app)}, Storage: jetstream.FileStorage}); err != nil {
			t.Fatal(err)
		}
	}
	created, err := EnsureFeedMirrors(ctx, connectAs(t, c, url, PrincipalService), FeedMirrorOptions{MaxAge: time.Hour}, "instagram", "messenger")
	if err != nil || len(created) != 2 {
		t.Fatalf("EnsureFeedMirrors: created %v, %v", created, err)
	}
	if again, err := EnsureFeedMirrors(ctx, connectAs(t, c, url, PrincipalService), FeedMirrorOptions{MaxAge: time.Hour}, "instagram"); err != nil || len(again) != 0 {
		t.Fatalf("EnsureFeedMirrors again: created %v, %v", again, err)
	}
	return c, url, svc
}

// An app's backend reads its durable feed's copy in its own account with a
// durable consumer of its own, from the start: everything the service
// kept for its accounts, in order.
func TestAppReadsItsDurableFeed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, url, svc := dfeedWorld(ctx, t)
	for _, a := range []string{"instagram:alice", "instagram:carol", "messenger:bob", "instagram:alice"} {
		if _, err := svc.Publish(ctx, api.DurableFeedSubject(a), []byte(`{"seq":1,"n":1,"kind":"message.sent"}`)); err != nil {
			t.Fatal(err)
		}
	}
	js := newJS(t, connectAs(t, c, url, "instagram"))
	var got []string
	rctx, stop := context.WithCancel(ctx)
	err := client.DurableFeed(rctx, js, "instagram", "backend", 0, func(_ context.Context, n client.DurableNotification) error {
		got = append(got, n.Viewer)
		if len(got) == 3 {
			stop()
		}
		return nil
	})
	if err != nil || strings.Join(got, " ") != "instagram:alice instagram:carol instagram:alice" {
		t.Errorf("instagram's backend read %v, %v", got, err)
	}
}

// No other principal reads an app's durable feed: NATS refuses another
// app's backend, and the app's own end users, any JetStream request on it
// (a permissions violation), and the app's backend may not delete, purge
// or edit its copy, nor reach a consumer in the service's account.
func TestDurableFeedIsReadableOnlyByItsApp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, url, _ := dfeedWorld(ctx, t)
	stream := api.DurableFeedStream("instagram")
	cases := []struct{ principal, subject string }{
		{"messenger", "$JS.API.CONSUMER.CREATE." + stream + ".spy"},
		{"messenger", "$JS.API.STREAM.INFO." + stream},
		{"messenger", ServiceAPIPrefix + ".CONSUMER.CREATE." + stream},
		{"instagram:alice", "$JS.API.CONSUMER.CREATE." + stream + ".spy"},
		{"instagram:alice", "$JS.API.DIRECT.GET." + stream},
		{"instagram", "$JS.API.STREAM.DELETE." + stream},
		{"instagram", "$JS.API.STREAM.PURGE." + stream},
		{"instagram", "$JS.API.STREAM.UPDATE." + stream},
		{"instagram", ServiceAPIPrefix + ".CONSUMER.CREATE." + stream},
	}
	for _, tc := range cases {
		nc, errs := errorsOf(t, c, url, tc.principal)
		if err := nc.Publish(tc.subject, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		_ = nc.Flush()
		select {
		case err := <-errs:
			if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), tc.subject) {
				t.Errorf("%s on %s: %v, want a permissions violation", tc.principal, tc.subject, err)
			}
		case <-time.After(2 * time.Second):
			t.Errorf("%s on %s was not refused", tc.principal, tc.subject)
		}
	}
}
