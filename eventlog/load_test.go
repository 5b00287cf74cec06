package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

// interleave appends n messages to conv(1) and one to conv(2) after each,
// and returns conv(1)'s messages.
func interleave(t testing.TB, f *fixture, n int) []events.Message {
	t.Helper()
	var want []events.Message
	var last1, last2 uint64
	for i := range n {
		data := fmt.Sprintf("one-%d", i)
		last1 = f.mustAppend(t, conv(1), last1, data)
		want = append(want, events.Message{Seq: last1, Subject: conv(1), Data: []byte(data)})
		last2 = f.mustAppend(t, conv(2), last2, "two")
	}
	return want
}

// bulk appends n messages without checks, round robin over conv(0) to
// conv(subjects-1), and returns them.
func (f *fixture) bulk(t testing.TB, n, subjects int) []events.Message {
	t.Helper()
	msgs := make([]events.Message, n)
	for i := range msgs {
		msgs[i] = events.Message{Subject: conv(i % subjects), Data: []byte(fmt.Sprintf("m%d", i))}
	}
	const window = 1000 // below nats.go's limit of outstanding async publishes
	for lo := 0; lo < n; lo += window {
		f.publishAsync(t, msgs[lo:min(lo+window, n)])
	}
	return msgs
}

// publishAsync publishes msgs and sets their Seq from the acks.
func (f *fixture) publishAsync(t testing.TB, msgs []events.Message) {
	t.Helper()
	acks := make([]jetstream.PubAckFuture, len(msgs))
	for i, m := range msgs {
		var err error
		if acks[i], err = f.js.PublishAsync(m.Subject, m.Data); err != nil {
			t.Fatal(err)
		}
	}
	for i, a := range acks {
		select {
		case ack := <-a.Ok():
			msgs[i].Seq = ack.Sequence
		case err := <-a.Err():
			t.Fatal(err)
		}
	}
}

func checkMessages(t testing.TB, got, want []events.Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Seq != want[i].Seq || got[i].Subject != want[i].Subject || string(got[i].Data) != string(want[i].Data) {
			t.Fatalf("message %d = {%d %s %q}, want {%d %s %q}", i,
				got[i].Seq, got[i].Subject, got[i].Data, want[i].Seq, want[i].Subject, want[i].Data)
		}
	}
}

func testLoad(t *testing.T, f *fixture) {
	ctx := testContext(t)
	want := interleave(t, f, 5)
	for _, tc := range []struct {
		after uint64
		want  []events.Message
	}{
		{0, want},
		{want[1].Seq, want[2:]},
		{want[1].Seq + 1, want[2:]}, // a seq of another subject
		{want[4].Seq, nil},
		{want[4].Seq + 100, nil},
	} {
		got, err := f.log.Load(ctx, conv(1), tc.after)
		if err != nil {
			t.Fatalf("Load after %d: %v", tc.after, err)
		}
		checkMessages(t, got, tc.want)
	}
	got, err := f.log.Load(ctx, conv(3), 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("Load of an unknown subject = %d messages, %v", len(got), err)
	}
	f.waitNoConsumers(t)
}

func TestLoad(t *testing.T) {
	testLoad(t, newFixture(t))
}

// TestLoadWithoutDirectGet runs Load on a stream that an operator created
// without allow_direct, which Load reads with an ordered consumer.
func TestLoadWithoutDirectGet(t *testing.T) {
	testLoad(t, newFixtureWithoutDirect(t))
}

// newFixtureWithoutDirect is a Log on a stream created by hand, correct but
// for allow_direct.
func newFixtureWithoutDirect(t testing.TB) *fixture {
	t.Helper()
	srv := natstest.Start(t)
	js := srv.JetStream(t)
	_, err := js.CreateStream(testContext(t), jetstream.StreamConfig{
		Name: events.StreamName, Subjects: []string{events.StreamSubjects},
		Storage: jetstream.FileStorage, DenyDelete: true, DenyPurge: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := eventlog.Open(testContext(t), js, eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, js: js, log: l}
}

func TestLoadManyMessages(t *testing.T) {
	f := newFixture(t)
	// More than one direct-get batch (4096), interleaved with another subject.
	var want []events.Message
	for _, m := range f.bulk(t, 10000, 2) {
		if m.Subject == conv(0) {
			want = append(want, m)
		}
	}
	got, err := f.log.Load(testContext(t), conv(0), 0)
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, got, want)
	got, err = f.log.Load(testContext(t), conv(0), want[4500].Seq)
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, got, want[4501:])
}

func TestGetAndLastSeq(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	if last, err := f.log.LastSeq(ctx); err != nil || last != 0 {
		t.Fatalf("LastSeq of an empty stream = %d, %v", last, err)
	}
	a := f.mustAppend(t, conv(1), 0, "a")
	b := f.mustAppend(t, conv(2), 0, "b")
	if last, err := f.log.LastSeq(ctx); err != nil || last != b {
		t.Fatalf("LastSeq = %d, %v; want %d", last, err, b)
	}
	m, err := f.log.Get(ctx, a)
	if err != nil || m.Seq != a || m.Subject != conv(1) || string(m.Data) != "a" {
		t.Fatalf("Get(%d) = %+v, %v", a, m, err)
	}
	for _, seq := range []uint64{0, b + 1} {
		if _, err := f.log.Get(ctx, seq); !errors.Is(err, eventlog.ErrNotFound) {
			t.Errorf("Get(%d) = %v, want ErrNotFound", seq, err)
		}
	}
}

// A read the stream does not answer in time (an election, no quorum) is
// ErrUnavailable, which the service answers 503 to retry, not 500.
func TestReadsNotAnsweredInTimeAreUnavailable(t *testing.T) {
	f := newFixture(t)
	a := f.mustAppend(t, conv(1), 0, "a")
	late, cancel := context.WithDeadline(testContext(t), time.Now())
	defer cancel()
	<-late.Done()
	if _, err := f.log.LastSeq(late); !errors.Is(err, eventlog.ErrUnavailable) {
		t.Errorf("LastSeq past its deadline = %v, want ErrUnavailable", err)
	}
	if _, err := f.log.Get(late, a); !errors.Is(err, eventlog.ErrUnavailable) {
		t.Errorf("Get past its deadline = %v, want ErrUnavailable", err)
	}
	if _, err := f.log.Load(late, conv(1), 0); !errors.Is(err, eventlog.ErrUnavailable) {
		t.Errorf("Load past its deadline = %v, want ErrUnavailable", err)
	}
}
