package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
)

// appendAsync runs AppendAsync and waits for its one result; a second
// call of done fails the test.
func appendAsync(t *testing.T, ctx context.Context, l *eventlog.Log, e eventlog.Entry) eventlog.Result {
	t.Helper()
	results := make(chan eventlog.Result, 2)
	l.AppendAsync(ctx, e, func(r eventlog.Result) { results <- r })
	r := <-results
	select {
	case again := <-results:
		t.Fatalf("done called twice: %+v, then %+v", r, again)
	case <-time.After(100 * time.Millisecond):
	}
	return r
}

// TestAppendAsyncSettlesAsAppend: stored, a conflict, a retry of a stored
// append (a duplicate, found through the probe after the conflict) and a
// foreign subject each give what Append gives.
func TestAppendAsyncSettlesAsAppend(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	f.mustAppend(t, conv(9), 0, "elsewhere")
	first := appendAsync(t, ctx, f.log, eventlog.Entry{Subject: conv(1), MsgID: "cmd-1", Data: []byte("a")})
	if first.Err != nil || first.Duplicate || first.Seq != 2 {
		t.Fatalf("first = %+v, want seq 2", first)
	}
	r := appendAsync(t, ctx, f.log, eventlog.Entry{Subject: conv(1), MsgID: "cmd-2", Data: []byte("b")})
	if !errors.Is(r.Err, eventlog.ErrConflict) {
		t.Fatalf("append expecting 0 on a subject at 2 = %+v, want ErrConflict", r)
	}
	r = appendAsync(t, ctx, f.log, eventlog.Entry{Subject: conv(1), MsgID: "cmd-1", Data: []byte("a")})
	if r.Err != nil || !r.Duplicate || r.Seq != first.Seq {
		t.Fatalf("retry of cmd-1 = %+v, want the duplicate of seq %d", r, first.Seq)
	}
	r = appendAsync(t, ctx, f.log, eventlog.Entry{Subject: "elsewhere.x", Data: []byte("c")})
	if r.Err == nil {
		t.Fatalf("append to a foreign subject = %+v, want a refusal", r)
	}
	if last := f.mustLast(t, ctx); last != first.Seq {
		t.Fatalf("stream's last seq = %d, want %d: a refusal stored something", last, first.Seq)
	}
}

// TestAppendAsyncEndsWithItsContext: an append whose stream does not
// answer (deleted under the log: no responders, published again) ends
// with ErrUnavailable when its context does, and is stored once the
// stream is back, when the context allows.
func TestAppendAsyncEndsWithItsContext(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	cfg := f.streamConfig(t, ctx)
	if err := f.js.DeleteStream(ctx, events.StreamName); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	r := appendAsync(t, short, f.log, eventlog.Entry{Subject: conv(1), MsgID: "cmd-1", Data: []byte("a")})
	if !errors.Is(r.Err, eventlog.ErrUnavailable) {
		t.Fatalf("append with no stream = %+v, want ErrUnavailable", r)
	}
	results := make(chan eventlog.Result, 1)
	f.log.AppendAsync(ctx, eventlog.Entry{Subject: conv(1), MsgID: "cmd-2", Data: []byte("b")}, func(r eventlog.Result) { results <- r })
	time.Sleep(200 * time.Millisecond) // published, and published again, to no stream
	if _, err := f.js.CreateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if r := <-results; r.Err != nil || r.Seq != 1 {
		t.Fatalf("append published again until the stream is back = %+v, want seq 1", r)
	}
}

// streamConfig is the configuration of the fixture's stream.
func (f *fixture) streamConfig(t *testing.T, ctx context.Context) jetstream.StreamConfig {
	t.Helper()
	s, err := f.js.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().Config
}

// mustLast is the stream's last sequence.
func (f *fixture) mustLast(t *testing.T, ctx context.Context) uint64 {
	t.Helper()
	last, err := f.log.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// Under a flood of appends the signing queue is never empty, and the
// caller that found no round running would sign and publish for all the
// others for as long as the flood lasts: a request's worker, or the policy
// closer, held by other principals' load. A caller runs a few rounds, then
// hands the rest to a goroutine of their own, so every AppendAsync call
// returns in a few rounds' time.
func TestAppendAsyncCallersAreNotHeldByAFlood(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	l, _ := f.signed(t)
	const producers, inFlight, flood = 8, 256, 2 * time.Second
	var longest atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(flood)
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots := make(chan struct{}, inFlight)
			for i := 0; time.Now().Before(end); i++ {
				slots <- struct{}{}
				e := eventlog.Entry{Subject: fmt.Sprintf("crosstalk.events.conv.f%d-%d", p, i), Data: []byte(`{"n":1}`)}
				start := time.Now()
				l.AppendAsync(ctx, e, func(eventlog.Result) { <-slots })
				if d := int64(time.Since(start)); d > longest.Load() {
					longest.Store(d)
				}
			}
			for range inFlight {
				slots <- struct{}{} // every append answered
			}
		}()
	}
	wg.Wait()
	if d := time.Duration(longest.Load()); d > flood/4 {
		t.Fatalf("an AppendAsync call took %s of a %s flood: its caller signed for the others", d, flood)
	}
}
