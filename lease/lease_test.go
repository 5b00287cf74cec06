package lease_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/lease"
)

// ttl is short so that the tests of expiry take a few seconds.
const ttl = 900 * time.Millisecond

// contender is one node contending for the lease "closer" on a connection
// of its own: running is set while its singleton runs.
type contender struct {
	js      jetstream.JetStream
	lease   *lease.Lease
	running atomic.Bool
	// lost is closed when the singleton's context is cancelled.
	lost   chan struct{}
	cancel context.CancelFunc
	done   chan error
}

func contend(t *testing.T, srv *natstest.Server, node string, active *atomic.Int32) *contender {
	t.Helper()
	return contendOn(t, srv.JetStream(t), node, active)
}

func contendOn(t *testing.T, js jetstream.JetStream, node string, active *atomic.Int32) *contender {
	t.Helper()
	c := &contender{js: js, lost: make(chan struct{}), done: make(chan error, 1)}
	ls, err := lease.Open(context.Background(), c.js, lease.Options{Node: node, TTL: ttl, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	c.lease = ls.Lease("closer")
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	var once sync.Once
	go func() {
		c.done <- c.lease.Run(ctx, func(ctx context.Context) error {
			if n := active.Add(1); n > 1 {
				t.Errorf("%d singletons run at once", n)
			}
			c.running.Store(true)
			<-ctx.Done()
			c.running.Store(false)
			active.Add(-1)
			once.Do(func() { close(c.lost) })
			return nil
		})
	}()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop cancels the contender and waits for its Run; again is a no-op.
func (c *contender) stop(t *testing.T) {
	c.cancel()
	if c.done == nil {
		return
	}
	if err := <-c.done; err != nil {
		t.Errorf("Run: %v", err)
	}
	c.done = nil
}

// holder waits until one of cs runs the singleton and returns it.
func holder(t *testing.T, within time.Duration, cs ...*contender) *contender {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, c := range cs {
			if c.running.Load() {
				return c
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no contender held the lease within %v", within)
	return nil
}

func other(a, b, of *contender) *contender {
	if of == a {
		return b
	}
	return a
}

func TestExactlyOneOfTwoHolds(t *testing.T) {
	srv := natstest.Start(t)
	var active atomic.Int32
	a, b := contend(t, srv, "a", &active), contend(t, srv, "b", &active)
	h := holder(t, 3*ttl, a, b)
	time.Sleep(4 * ttl) // renewals keep it; the other never runs
	if !h.running.Load() || other(a, b, h).running.Load() {
		t.Fatalf("holder running %v, other running %v", h.running.Load(), other(a, b, h).running.Load())
	}
	holders, err := lease.Holders(context.Background(), srv.JetStream(t))
	if err != nil {
		t.Fatal(err)
	}
	got := holders["closer"]
	term, ok := h.lease.Held()
	if !ok || got.Term != term || got.Revision <= got.Term || got.Since.IsZero() ||
		(got.Node == "a") != (h == a) {
		t.Fatalf("Holders says %+v; the holder says term %d held %v", got, term, ok)
	}
}

// A holder paused past the TTL (renewals stopped) stops trusting its lease
// on its own clock, the other node takes it, and when the holder resumes
// its renewal fails and its singleton's context is cancelled.
func TestPausedHolderIsDeposed(t *testing.T) {
	srv := natstest.Start(t)
	// Each its own count: while a is paused its singleton still runs
	// beside b's, which is why the singletons fence their effects.
	var activeA, activeB atomic.Int32
	a := contend(t, srv, "a", &activeA)
	holder(t, 3*ttl, a)
	firstTerm, _ := a.lease.Held()
	a.lease.PauseRenewals(true)
	b := contend(t, srv, "b", &activeB)
	time.Sleep(ttl)
	if _, ok := a.lease.Held(); ok {
		t.Fatal("a holder not renewed for the TTL still says it holds the lease")
	}
	deadline := time.Now().Add(3 * ttl)
	for {
		h, err := lease.Holders(context.Background(), b.js)
		if err != nil {
			t.Fatal(err)
		}
		if h["closer"].Node == "b" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b did not take the lease of a paused holder: %+v", h)
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.lease.PauseRenewals(false)
	select {
	case <-a.lost:
	case <-time.After(2 * ttl):
		t.Fatal("the deposed holder's singleton was not cancelled after it resumed")
	}
	holder(t, 2*ttl, b)
	if term, ok := b.lease.Held(); !ok || term <= firstTerm {
		t.Fatalf("b holds term %d (%v), a held %d", term, ok, firstTerm)
	}
}

// A holder that dies without releasing (its connection gone, as with
// kill -9) is replaced once its lease has not changed for the TTL.
func TestCrashedHolderIsReplacedWithinTTL(t *testing.T) {
	srv := natstest.Start(t)
	var activeA, activeB atomic.Int32 // a's singleton may take a moment to stop
	nc := srv.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	a := contendOn(t, js, "a", &activeA)
	holder(t, 3*ttl, a)
	b := contend(t, srv, "b", &activeB)
	time.Sleep(ttl / 2)
	nc.Close() // no renewal, no release can reach the server any more
	crashed := time.Now()
	holder(t, 3*ttl, b)
	took := time.Since(crashed)
	if took < ttl-ttl/3 || took > ttl+2*ttl/3+200*time.Millisecond {
		t.Fatalf("b took the lease %v after a crashed; want about the TTL %v, within TTL+2×TTL/3", took, ttl)
	}
	t.Logf("taken over %v after the crash (TTL %v)", took, ttl)
}

// A holder that stops cleanly releases its lease: the other node takes it
// at its next look, well within the TTL.
func TestReleaseHandsOverAtOnce(t *testing.T) {
	srv := natstest.Start(t)
	var active atomic.Int32
	a := contend(t, srv, "a", &active)
	holder(t, 3*ttl, a)
	b := contend(t, srv, "b", &active)
	time.Sleep(ttl / 2)
	stopped := time.Now()
	a.stop(t)
	holder(t, ttl, b)
	if took := time.Since(stopped); took > ttl/3+200*time.Millisecond {
		t.Fatalf("b took a released lease after %v; want at its next look (TTL/3 = %v)", took, ttl/3)
	}
}
