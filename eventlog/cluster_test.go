package eventlog_test

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

// TestReplicatedStream runs Append, Load and Read on an R3 stream, where
// JetStream checks the duplicate window before the expected sequence and
// reports conflicts with its own error code.
func TestReplicatedStream(t *testing.T) {
	servers := natstest.StartCluster(t, 3)
	js := servers[0].JetStream(t)
	ctx := testContext(t)
	l, err := eventlog.Open(ctx, js, eventlog.Options{Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{srv: servers[0], js: js, log: l}
	if r := l.Stream().CachedInfo().Config.Replicas; r != 3 {
		t.Fatalf("replicas %d, want 3", r)
	}

	// A raw retry with a stale expected sequence is a duplicate here.
	opts := []jetstream.PublishOpt{jetstream.WithMsgID("raw"), jetstream.WithExpectLastSequencePerSubject(0)}
	raw, err := js.Publish(ctx, conv(9), []byte("r"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if ack, err := js.Publish(ctx, conv(9), []byte("r"), opts...); err != nil || !ack.Duplicate || ack.Sequence != raw.Sequence {
		t.Fatalf("raw retry on R3 = %+v, %v; want a duplicate of %d", ack, err, raw.Sequence)
	}

	first, _, err := l.Append(ctx, conv(1), 0, "cmd-1", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if seq, dup, err := l.Append(ctx, conv(1), 0, "cmd-1", []byte("a")); err != nil || !dup || seq != first {
		t.Fatalf("retry = %d, dup %v, %v; want %d, true", seq, dup, err, first)
	}
	if _, _, err := l.Append(ctx, conv(1), 0, "cmd-2", []byte("b")); !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("stale append = %v, want ErrConflict", err)
	}
	// The conflict left cmd-2 free: deciding again and appending succeeds.
	second, dup, err := l.Append(ctx, conv(1), first, "cmd-2", []byte("b"))
	if err != nil || dup {
		t.Fatalf("append after conflict = %d, dup %v, %v", second, dup, err)
	}

	got, err := l.Load(ctx, conv(1), 0)
	if err != nil || len(got) != 2 || got[0].Seq != first || got[1].Seq != second {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	r := startReader(t, l, 1, 10)
	if all := r.next(t, 3, 10); all[2].Seq != second {
		t.Fatalf("Read ended at seq %d, want %d", all[2].Seq, second)
	}
	r.stop(t)
	f.waitNoConsumers(t)
}
