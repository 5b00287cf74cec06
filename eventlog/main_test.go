package eventlog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fixture is a Log on a fresh server.
type fixture struct {
	srv *natstest.Server
	js  jetstream.JetStream
	log *eventlog.Log
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	srv := natstest.Start(t)
	js := srv.JetStream(t)
	l, err := eventlog.Open(testContext(t), js, eventlog.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return &fixture{srv: srv, js: js, log: l}
}

// testContext is a context that ends with the test or after 30 seconds.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// conv returns the subject of test conversation n.
func conv(n int) string {
	return events.ConversationSubject(fmt.Sprintf("00000000-0000-7000-8000-%012d", n))
}

// mustAppend appends data to subject after expectedSeq and returns its seq.
func (f *fixture) mustAppend(t testing.TB, subject string, expectedSeq uint64, data string) uint64 {
	t.Helper()
	seq, dup, err := f.log.Append(testContext(t), subject, expectedSeq, "", []byte(data))
	if err != nil || dup {
		t.Fatalf("Append(%s, %d, %q) = %d, dup %v, %v", subject, expectedSeq, data, seq, dup, err)
	}
	return seq
}

// consumers returns the number of consumers on the stream.
func (f *fixture) consumers(t testing.TB) int {
	t.Helper()
	info, err := f.log.Info(testContext(t))
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	return info.State.Consumers
}

// waitNoConsumers fails the test unless the stream has no consumer within a
// few seconds (deletes are asynchronous on the server).
func (f *fixture) waitNoConsumers(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.consumers(t) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("stream still has %d consumers", f.consumers(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
