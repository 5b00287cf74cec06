package seal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func newTree(t *testing.T) *Tree {
	t.Helper()
	tr, err := NewTree()
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func leaf(t *testing.T, tr *Tree, i uint32) Key {
	t.Helper()
	k, err := tr.Leaf(i)
	if err != nil {
		t.Fatalf("leaf %d: %v", i, err)
	}
	return k
}

// A punctured leaf can no longer be derived; every other leaf keeps its
// key, and the record holds neither the root nor any key on the punctured
// leaf's path, from which it could be derived again.
func TestPuncturedLeafIsGoneAndTheOthersStay(t *testing.T) {
	tr := newTree(t)
	const gone = 1000
	keep := []uint32{0, 999, 1001, 1 << 20, ^uint32(0)}
	before := map[uint32]Key{}
	for _, i := range keep {
		before[i] = leaf(t, tr, i)
	}
	goneKey := leaf(t, tr, gone)
	p := tr.Punctured(gone, gone)
	if _, err := p.Leaf(gone); !errors.Is(err, ErrErased) {
		t.Fatalf("punctured leaf: %v, want ErrErased", err)
	}
	for _, i := range keep {
		if leaf(t, p, i) != before[i] {
			t.Errorf("leaf %d changed by the puncture", i)
		}
	}
	rec, _ := p.MarshalBinary()
	path := node{key: tr.nodes[0].key}
	for path.depth <= Depth {
		if bytes.Contains(rec, path.key[:]) {
			t.Fatalf("record holds the key at depth %d of the punctured leaf's path", path.depth)
		}
		if path.depth == Depth {
			break
		}
		path = path.child(gone >> (Depth - 1 - path.depth) & 1)
	}
	if path.key != goneKey {
		t.Fatal("the walk did not reach the punctured leaf")
	}
	if got := len(p.nodes); got != Depth {
		t.Errorf("a punctured root leaves %d nodes, want %d (one sibling per level)", got, Depth)
	}
}

// A range puncture, as a retention rule makes, erases exactly [lo, hi].
func TestRangePuncture(t *testing.T) {
	tr := newTree(t)
	p := tr.Punctured(0, 4999).Punctured(7000, 7000)
	for _, c := range []struct {
		i    uint32
		held bool
	}{{0, false}, {4999, false}, {5000, true}, {6999, true}, {7000, false}, {7001, true}, {^uint32(0), true}} {
		k, err := p.Leaf(c.i)
		if c.held && (err != nil || k != leaf(t, tr, c.i)) {
			t.Errorf("leaf %d: %v, want its key", c.i, err)
		}
		if !c.held && !errors.Is(err, ErrErased) {
			t.Errorf("leaf %d: %v, want ErrErased", c.i, err)
		}
	}
	if all := tr.Punctured(0, ^uint32(0)); !all.Erased() {
		t.Errorf("puncturing every leaf left %d nodes", len(all.nodes))
	}
}

func TestTreeRecordRoundTrip(t *testing.T) {
	tr := newTree(t).Punctured(3, 3).Punctured(10, 500)
	rec, err := tr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Tree
	if err := back.UnmarshalBinary(rec); err != nil {
		t.Fatal(err)
	}
	if back.ID() != tr.ID() {
		t.Fatal("id changed")
	}
	for _, i := range []uint32{0, 3, 11, 501, 1 << 31} {
		k1, e1 := tr.Leaf(i)
		k2, e2 := back.Leaf(i)
		if k1 != k2 || !errors.Is(e2, e1) && e1 != e2 {
			t.Errorf("leaf %d: %v/%v", i, e1, e2)
		}
	}
	for _, bad := range [][]byte{nil, {2}, rec[:len(rec)-1], append([]byte{1}, make([]byte, 9)...)} {
		if err := new(Tree).UnmarshalBinary(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("record %x: %v, want ErrMalformed", bad, err)
		}
	}
}

// Sealed text opens with its leaf's key and its envelope only.
func TestSealOpensWithItsKeyAndEnvelopeOnly(t *testing.T) {
	tr := newTree(t)
	k := leaf(t, tr, 7)
	ad := AD("crosstalk.conv.c1", "crosstalk.message.sent.v1", "e1", "messenger:ana")
	v, err := Seal(k, tr.ID(), 7, ad, "sentinel-text")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(v, "sentinel") || !IsSealed(v) {
		t.Fatalf("sealed value %q", v)
	}
	s, err := Parse(v)
	if err != nil || s.Leaf != 7 || s.TreeID != tr.ID() {
		t.Fatalf("parse: %+v %v", s, err)
	}
	if got, err := s.Open(k, ad); err != nil || got != "sentinel-text" {
		t.Fatalf("open: %q %v", got, err)
	}
	other := AD("crosstalk.conv.c1", "crosstalk.message.sent.v1", "e2", "messenger:ana")
	if _, err := s.Open(k, other); !errors.Is(err, ErrMalformed) {
		t.Errorf("opened under another envelope: %v", err)
	}
	if _, err := s.Open(leaf(t, tr, 8), ad); !errors.Is(err, ErrMalformed) {
		t.Errorf("opened with another leaf's key: %v", err)
	}
	for _, bad := range []string{"text", "s1.x.7.AAAA", "s1." + tr.ID() + ".-1.AAAA", "s1." + tr.ID() + ".7.!!"} {
		if _, err := Parse(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("parse %q: %v", bad, err)
		}
	}
}

func TestDigestIsKeyed(t *testing.T) {
	tr := newTree(t)
	a, b := Digest(leaf(t, tr, 1), "hi"), Digest(leaf(t, tr, 2), "hi")
	if a == b || a != Digest(leaf(t, tr, 1), "hi") || a == Digest(leaf(t, tr, 1), "ho") {
		t.Fatalf("digests %s %s", a, b)
	}
}

func BenchmarkSealNextMessage(b *testing.B) {
	tr, _ := NewTree()
	ad := AD("crosstalk.conv.c1", "crosstalk.message.sent.v1", "e1", "messenger:ana")
	for i := 0; b.Loop(); i++ {
		k, _ := tr.Leaf(uint32(i))
		if _, err := Seal(k, tr.ID(), uint32(i), ad, "a message of ordinary length, about sixty-four bytes of text...."); err != nil {
			b.Fatal(err)
		}
	}
}
