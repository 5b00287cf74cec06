package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
)

// reader runs Read in the background and collects what it delivers.
type reader struct {
	batches chan []events.Message
	done    chan error
	cancel  context.CancelFunc
}

func startReader(t testing.TB, l *eventlog.Log, from uint64, maxBatch int) *reader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &reader{batches: make(chan []events.Message, 100000), done: make(chan error, 1), cancel: cancel}
	go func() {
		r.done <- l.Read(ctx, from, maxBatch, func(b []events.Message) error {
			r.batches <- b
			return nil
		})
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Read and fails the test unless it returns nil promptly.
func (r *reader) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok && err != nil {
			t.Errorf("Read after cancel = %v, want nil", err)
		}
		if ok {
			close(r.done)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Read did not return after cancel")
	}
}

// next collects n messages, checking batch sizes against maxBatch.
func (r *reader) next(t testing.TB, n, maxBatch int) []events.Message {
	t.Helper()
	var got []events.Message
	timeout := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case b := <-r.batches:
			if len(b) == 0 || len(b) > maxBatch {
				t.Fatalf("batch of %d messages, max %d", len(b), maxBatch)
			}
			got = append(got, b...)
		case <-timeout:
			t.Fatalf("got %d of %d messages", len(got), n)
		}
	}
	return got
}

func TestReadFromSeqThenFollows(t *testing.T) {
	f := newFixture(t)
	var all []events.Message
	for i := range 250 {
		subject, data := conv(i%7), fmt.Sprintf("m%d", i)
		seq := f.appendUnchecked(t, subject, data)
		all = append(all, events.Message{Seq: seq, Subject: subject, Data: []byte(data)})
	}

	// Read stops every goroutine it starts.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const maxBatch = 16
	r := startReader(t, f.log, all[40].Seq, maxBatch)
	checkMessages(t, r.next(t, 210, maxBatch), all[40:])

	// Caught up: each new message arrives alone, without waiting for a batch.
	for i := range 3 {
		seq := f.appendUnchecked(t, conv(100), fmt.Sprintf("new%d", i))
		got := r.next(t, 1, 1)
		if got[0].Seq != seq {
			t.Fatalf("followed seq %d, want %d", got[0].Seq, seq)
		}
	}
	r.stop(t)
	f.waitNoConsumers(t)
}

func TestReadFromZeroReadsAll(t *testing.T) {
	f := newFixture(t)
	a := f.mustAppend(t, conv(1), 0, "a")
	r := startReader(t, f.log, 0, 10)
	if got := r.next(t, 1, 10); got[0].Seq != a {
		t.Fatalf("first message seq %d, want %d", got[0].Seq, a)
	}
}

func TestReadStopsOnFnError(t *testing.T) {
	f := newFixture(t)
	f.mustAppend(t, conv(1), 0, "a")
	boom := errors.New("boom")
	err := f.log.Read(testContext(t), 1, 10, func([]events.Message) error { return boom })
	if err != boom {
		t.Fatalf("Read = %v, want fn's error", err)
	}
	f.waitNoConsumers(t)
}

func TestReadReturnsNilWhenContextEnds(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := f.log.Read(ctx, 1, 10, func([]events.Message) error { return nil })
	if err != nil {
		t.Fatalf("Read on an empty stream until timeout = %v, want nil", err)
	}
	f.waitNoConsumers(t)
}

func TestReadRejectsBadBatch(t *testing.T) {
	f := newFixture(t)
	if err := f.log.Read(testContext(t), 1, 0, func([]events.Message) error { return nil }); err == nil {
		t.Fatal("Read with maxBatch 0 succeeded")
	}
}

func TestReadSurvivesServerRestart(t *testing.T) {
	srv := newFixture(t).srv
	nc := srv.Connect(t, nats.ReconnectWait(20*time.Millisecond), nats.MaxReconnects(-1))
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	l, err := eventlog.Open(testContext(t), js, eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{srv: srv, js: js, log: l}
	f.mustAppend(t, conv(1), 0, "before")
	r := startReader(t, l, 1, 10)
	r.next(t, 1, 10)

	f.srv = srv.Restart(t)
	seq := f.appendEventually(t, conv(2), "after")
	got := r.next(t, 1, 10)
	if got[0].Seq != seq || string(got[0].Data) != "after" {
		t.Fatalf("after restart read {%d %q}, want {%d after}", got[0].Seq, got[0].Data, seq)
	}
	r.stop(t)
	f.waitNoConsumers(t)
}

// appendUnchecked appends data to subject whatever its last sequence.
func (f *fixture) appendUnchecked(t testing.TB, subject, data string) uint64 {
	t.Helper()
	ack, err := f.js.Publish(testContext(t), subject, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// appendEventually appends to a new subject, retrying while the client
// reconnects.
func (f *fixture) appendEventually(t testing.TB, subject, data string) uint64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		seq, _, err := f.log.Append(ctx, subject, 0, "after-restart", []byte(data))
		cancel()
		if err == nil {
			return seq
		}
		if time.Now().After(deadline) {
			t.Fatalf("append after restart: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
