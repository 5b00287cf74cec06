package projector

import (
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// notes collects what a store publishes on its feeds.
type notes struct{ got []Note }

func (n *notes) Publish(ns []Note) error {
	n.got = append(n.got, ns...)
	return nil
}

// Each account's notification numbers N run 1, 2, 3… without a gap even
// when the counters' cache holds one account only: an evicted counter is
// read back from Pebble, never started again.
func TestFeedCountersSurviveEviction(t *testing.T) {
	pub := &notes{}
	s := openStoreWith(t, Options{Dir: t.TempDir(), Logger: testkit.Quiet(), RecordCache: 1, Feeds: pub,
		Now: func() time.Time { return beforeV2 }})
	f := newFeed(t)
	f.seedPolicies()
	f.start("c1", alice, carol)
	if err := s.Apply(f.take()); err != nil {
		t.Fatal(err)
	}
	for i := range 6 { // one event a run: alice and carol take turns in the cache
		f.send("c1", events.NewID(), []events.Account{alice, carol}[i%2], "hi")
		if err := s.Apply(f.take()); err != nil {
			t.Fatal(err)
		}
	}
	last := map[events.Account]uint64{}
	for _, n := range pub.got {
		if n.N != last[n.Viewer]+1 {
			t.Fatalf("%s's notification %+v has N=%d after %d", n.Viewer, n.Notification, n.N, last[n.Viewer])
		}
		last[n.Viewer] = n.N
	}
	if last[alice] != 7 || last[carol] != 7 {
		t.Errorf("alice's feed ends at N=%d, carol's at %d; want 7 each (the start and six messages)", last[alice], last[carol])
	}
}
