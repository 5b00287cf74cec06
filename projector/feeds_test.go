package projector

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector/views"
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

// getCounter is a views.Reader that counts the point reads of feed
// counters.
type getCounter struct {
	views.Reader
	feedGets int
}

func (g *getCounter) Get(k []byte) ([]byte, io.Closer, error) {
	if bytes.HasPrefix(k, views.FeedKey("")[:len("feed/n")]) {
		g.feedGets++
	}
	return g.Reader.Get(k)
}

// A run reads the counters its cache lacks in one pass, not one point
// read each, and still numbers every note after the account's last: here
// six accounts out of the cache's reach get two or three notes each.
func TestFeedCountersOfARunReadInOnePass(t *testing.T) {
	pub := &notes{}
	s := openStoreWith(t, Options{Dir: t.TempDir(), Logger: testkit.Quiet(), RecordCache: 1, Feeds: pub,
		Now: func() time.Time { return beforeV2 }})
	f := newFeed(t)
	f.seedPolicies()
	accts := []events.Account{"instagram:a1", "instagram:a2", "instagram:a3", "instagram:a4", "instagram:a5", "instagram:a6"}
	for i := 0; i < len(accts); i += 2 {
		f.start(fmt.Sprint("c", i), accts[i], accts[i+1])
	}
	mustApply(t, s, f.take())
	for i := 0; i < len(accts); i += 2 {
		for j := range 1 + i/2 {
			f.send(fmt.Sprint("c", i), events.NewID(), accts[i+j%2], "hi")
		}
	}
	run := f.take()
	r := &getCounter{Reader: s.db}
	b := s.db.NewBatch()
	defer b.Close()
	tx := newTx(b, r, s.log, s.records, len(run))
	tx.feed = s.newFeedTx(0)
	if _, _, err := tx.fold(s.checkpointOf(0), run, s.checkpointKey(0)); err != nil {
		t.Fatal(err)
	}
	if r.feedGets != 0 {
		t.Errorf("%d point reads of feed counters, want none", r.feedGets)
	}
	if err := b.Commit(nil); err != nil {
		t.Fatal(err)
	}
	s.publish(tx.feed)
	last := map[events.Account]uint64{}
	for _, n := range pub.got {
		if n.N != last[n.Viewer]+1 {
			t.Fatalf("%s's notification %+v has N=%d after %d", n.Viewer, n.Notification, n.N, last[n.Viewer])
		}
		last[n.Viewer] = n.N
	}
	for i, a := range accts {
		if want := uint64(2 + i/2); last[a] != want {
			t.Errorf("%s's feed ends at N=%d, want %d", a, last[a], want)
		}
	}
}
