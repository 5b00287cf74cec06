package natstest_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestStartServesJetStream(t *testing.T) {
	s := natstest.Start(t)
	if !s.NATS.JetStreamEnabled() {
		t.Fatal("JetStream is not enabled")
	}
	js := s.JetStream(t)
	ctx := context.Background()
	createStream(t, js)
	ack, err := js.Publish(ctx, "t.one", []byte("hello"))
	if err != nil || ack.Sequence != 1 {
		t.Fatalf("publish: ack %+v, err %v", ack, err)
	}
}

func TestRestartKeepsDataAndPort(t *testing.T) {
	s := natstest.Start(t)
	nc := s.Connect(t, nats.ReconnectWait(20*time.Millisecond), nats.MaxReconnects(-1))
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	createStream(t, js)
	if _, err := js.Publish(context.Background(), "t.one", []byte("kept")); err != nil {
		t.Fatal(err)
	}

	s2 := s.Restart(t)
	if s2.URL() != s.URL() || s2.Dir() != s.Dir() {
		t.Fatalf("restart moved: %s %s -> %s %s", s.URL(), s.Dir(), s2.URL(), s2.Dir())
	}
	// The old connection reconnects to the new server on the same port.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg := getFirst(ctx, t, js)
	if string(msg.Data) != "kept" {
		t.Fatalf("after restart got %q, want %q", msg.Data, "kept")
	}
}

func TestStartWithDirReopensStore(t *testing.T) {
	dir := t.TempDir()
	s := natstest.StartWithDir(t, dir)
	js := s.JetStream(t)
	createStream(t, js)
	if _, err := js.Publish(context.Background(), "t.one", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	s.Shutdown()
	s.Shutdown() // idempotent

	s2 := natstest.StartWithDir(t, dir)
	msg := getFirst(context.Background(), t, s2.JetStream(t))
	if string(msg.Data) != "kept" {
		t.Fatalf("after restart got %q, want %q", msg.Data, "kept")
	}
}

func createStream(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	_, err := js.CreateStream(context.Background(), jetstream.StreamConfig{
		Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage,
	})
	if err != nil {
		t.Fatalf("create stream: %v", err)
	}
}

// getFirst reads message 1 of stream T, retrying while the client reconnects.
func getFirst(ctx context.Context, t *testing.T, js jetstream.JetStream) *jetstream.RawStreamMsg {
	t.Helper()
	for {
		msg, err := getMsg(ctx, js)
		if err == nil {
			return msg
		}
		select {
		case <-ctx.Done():
			t.Fatalf("get message 1 of T: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func getMsg(ctx context.Context, js jetstream.JetStream) (*jetstream.RawStreamMsg, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "T")
	if err != nil {
		return nil, err
	}
	return st.GetMsg(ctx, 1)
}

func TestStartClusterServesReplicatedStreams(t *testing.T) {
	servers := natstest.StartCluster(t, 3)
	js := servers[1].JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage, Replicas: 3,
	})
	if err != nil {
		t.Fatalf("create R3 stream: %v", err)
	}
	if _, err := js.Publish(ctx, "t.one", []byte("hello")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	msg := getFirst(ctx, t, servers[2].JetStream(t))
	if string(msg.Data) != "hello" {
		t.Fatalf("read %q from another server", msg.Data)
	}
}
