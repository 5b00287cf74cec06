package projector

import (
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
)

func TestChecksumIsTheStoreKeyForKey(t *testing.T) {
	f := newFeed(t)
	f.seedPolicies()
	f.start("c1", alice, bob)
	f.send("c1", "m1", alice, "1")
	f.read("c1", "m1", bob)
	f.closeByPolicy("c1", 2)
	msgs := f.take()

	whole, single, short := openStore(t), openStore(t), openStore(t)
	mustApply(t, whole, msgs)
	for _, m := range msgs {
		mustApply(t, single, []events.Message{m})
	}
	mustApply(t, short, msgs[:len(msgs)-1])
	sum := func(s *Store) (string, uint64) {
		t.Helper()
		h, n, err := s.Checksum()
		if err != nil {
			t.Fatal(err)
		}
		return h, n
	}
	a, na := sum(whole)
	b, nb := sum(single)
	c, _ := sum(short)
	if a != b || na != nb || na != uint64(len(dump(t, whole))) {
		t.Fatalf("same events, different checksums: %s/%d vs %s/%d", a, na, b, nb)
	}
	if c == a {
		t.Fatal("a store missing the last event has the same checksum")
	}
}
