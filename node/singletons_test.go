package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// Two nodes with the default roles on one server: exactly one runs the
// closer and one the intake consumer. When the holder of the intake's
// lease dies without a word (its connection gone, as with kill -9), the
// other takes its leases within 10 s (the default TTL of 5 s) and decides
// the intake commands published meanwhile, each exactly once: one event,
// one first outcome (a command whose ack the crash lost is decided again
// as a duplicate of itself, as TestIntakeRedeliveryAfterCrash shows).
func TestSingletonsMoveWhenTheirHolderDies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := natstest.Start(t)
	a := background(ctx, t, srv, "a")
	b := background(ctx, t, srv, "b")
	nodes := []*node.Node{a.n, b.n}
	for range 3 { // a few renewals: never two holders
		for _, name := range []string{node.CloserLease, node.IntakeLease} {
			if h := holders(nodes, name); len(h) != 1 {
				t.Fatalf("lease %s held by %d nodes", name, len(h))
			}
		}
		time.Sleep(time.Second)
	}
	dead, alive := a, b
	if _, ok := b.n.Holds(node.IntakeLease); ok {
		dead, alive = b, a
	}
	nc := srv.Connect(t)
	w := watchOutcomes(t, nc, "instagram")
	before := uuid.NewString()
	publish(ctx, t, nc, "instagram", api.ActionConversationStart, same(before), startBody(before))
	w.await(t, before, 1)

	dead.n.Conn().Close() // no renewal, no release: a crash as the cluster sees it
	crashed := time.Now()
	var ids []string
	for range 20 {
		id := uuid.NewString()
		ids = append(ids, id)
		publish(ctx, t, nc, "instagram", api.ActionConversationStart, same(id), startBody(id))
	}
	for _, name := range []string{node.IntakeLease, node.CloserLease} {
		waitHolds(t, alive.n, name, crashed.Add(10*time.Second))
	}
	t.Logf("the other node holds both leases %v after the crash", time.Since(crashed).Round(time.Millisecond))
	for _, id := range append(ids, before) {
		w.await(t, id, 1)
		msgs, err := alive.n.Log().Load(ctx, events.ConversationSubject(events.ConversationIDFor("instagram", id)), 0)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("command %s: %d events (%v), want 1", id, len(msgs), err)
		}
	}
	time.Sleep(500 * time.Millisecond) // an outcome decided twice would show by now
	for _, id := range append(ids, before) {
		if firsts := firstOutcomes(t, w.await(t, id, 1)); firsts != 1 {
			t.Fatalf("command %s decided %d times (not as a duplicate)", id, firsts)
		}
	}
	_ = dead.stop() // its connection is gone: the errors say so
}

// running is a node served in the background, stopped by stop (and by the
// test's end, if not before).
type running struct {
	n    *node.Node
	stop func() error
}

func background(ctx context.Context, t *testing.T, srv *natstest.Server, id string) *running {
	t.Helper()
	n, err := node.Start(ctx, node.Options{Dir: t.TempDir(), NatsURL: srv.URL(), NodeID: id, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := n.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &running{n: n}
	var stopped bool
	r.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		return stop()
	}
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("node %s: %v", id, err)
		}
	})
	return r
}

// holders are the nodes of ns that hold lease name now.
func holders(ns []*node.Node, name string) []*node.Node {
	var out []*node.Node
	for _, n := range ns {
		if _, ok := n.Holds(name); ok {
			out = append(out, n)
		}
	}
	return out
}

func waitHolds(t *testing.T, n *node.Node, name string, deadline time.Time) {
	t.Helper()
	for time.Now().Before(deadline) {
		if _, ok := n.Holds(name); ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the lease %s did not move to the surviving node within 10 s of the crash", name)
}

// firstOutcomes counts the outcomes that are not duplicates, and fails the
// test on a refusal.
func firstOutcomes(t *testing.T, got []api.Outcome) int {
	t.Helper()
	n := 0
	for _, o := range got {
		if o.Error != nil || o.Reply == nil {
			t.Fatalf("outcome %+v: want a success", o)
		}
		if !o.Reply.Duplicate {
			n++
		}
	}
	return n
}
