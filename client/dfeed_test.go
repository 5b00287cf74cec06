package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

// backend is an app backend's run of DurableFeed on a connection of its
// own: it reads until it got want notifications (or fn fails), then stops,
// and returns their positions.
func backend(t *testing.T, srv *natstest.Server, from uint64, want int, fail uint64) ([]uint64, error) {
	t.Helper()
	nc := srv.Connect(t)
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var got []uint64
	err = client.DurableFeed(ctx, js, "instagram", "backend", from, func(_ context.Context, n client.DurableNotification) error {
		if n.Position == fail {
			return errors.New("the backend fails")
		}
		if n.Viewer != "instagram:alice" || n.Kind != api.NoteMessageSent || n.Seq != 100+n.Position {
			t.Errorf("notification %+v", n)
		}
		got = append(got, n.Position)
		if len(got) == want {
			cancel()
		}
		return nil
	})
	return got, err
}

// produce appends k notifications to instagram's durable feed.
func produce(t *testing.T, js jetstream.JetStream, k int) {
	t.Helper()
	for range k {
		info, err := js.Stream(context.Background(), api.DurableFeedStream("instagram"))
		if err != nil {
			t.Fatal(err)
		}
		seq := info.CachedInfo().State.LastSeq + 1
		body := fmt.Sprintf(`{"seq":%d,"n":%d,"kind":"message.sent","account":"instagram:bob","at":"2023-12-13T12:00:00Z","message_id":"m"}`, 100+seq, seq)
		if _, err := js.Publish(context.Background(), api.DurableFeedSubject("instagram:alice"), []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
}

// A backend that consumes, stops and starts again gets exactly the
// notifications produced while it was down; one whose handler failed gets
// that notification again; a new consumer starts where it is told.
func TestDurableFeedResumesWhereItAcked(t *testing.T) {
	srv := natstest.Start(t)
	js := srv.JetStream(t)
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: api.DurableFeedStream("instagram"),
		Subjects: []string{api.DurableFeedSubjects("instagram")}}); err != nil {
		t.Fatal(err)
	}
	produce(t, js, 3)
	steps := []struct {
		produce, want int
		from, fail    uint64
		got           []uint64
		err           bool
	}{
		{want: 3, got: []uint64{1, 2, 3}},
		{produce: 2, from: 1, want: 2, got: []uint64{4, 5}}, // from is ignored: the consumer resumes
		{produce: 2, want: 2, fail: 7, got: []uint64{6}, err: true},
		{want: 1, got: []uint64{7}},
	}
	for i, s := range steps {
		produce(t, js, s.produce)
		got, err := backend(t, srv, s.from, s.want, s.fail)
		if !slices.Equal(got, s.got) || (err != nil) != s.err {
			t.Errorf("run %d: got %v, %v; want %v (error %v)", i, got, err, s.got, s.err)
		}
	}
	nc := srv.Connect(t)
	js2, _ := jetstream.New(nc)
	ctx, cancel := context.WithCancel(context.Background())
	var first uint64
	err := client.DurableFeed(ctx, js2, "instagram", "from-five", 5, func(_ context.Context, n client.DurableNotification) error {
		first = n.Position
		cancel()
		return nil
	})
	if err != nil || first != 5 {
		t.Errorf("a consumer created at 5 started at %d, %v", first, err)
	}
}
