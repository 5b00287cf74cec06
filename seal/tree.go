// Package seal is the cryptography of erasure (docs/erasure.md): a
// puncturable key tree per scope, whose leaves seal one message's content
// each, and the sealed format the events carry. It is pure: no NATS, no
// Pebble, no I/O but crypto/rand. The keyring stores trees; the service
// seals with them; the read side opens.
//
// A Tree is the GGM construction (Goldreich, Goldwasser, Micali): a root
// key and a binary tree of depth 32 whose children are derived by a
// one-way function (SHA-256 of the parent and the bit), one leaf per
// message index of the scope's conversation. Puncturing a leaf replaces
// the node that covered it by the siblings of its path, so the leaf's key
// can no longer be derived from anything the tree holds, and every other
// leaf still can: an unsend erases one message, cryptographically, at the
// cost of at most 32 keys in the scope's record, without a key per
// message anywhere.
package seal

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Depth is the depth of a Tree: a leaf per uint32 message index.
const Depth = 32

// ErrErased reports a leaf that its tree no longer holds: punctured, or
// the tree itself erased.
var ErrErased = errors.New("seal: erased")

// ErrMalformed reports a record or a sealed value that is not seal's.
var ErrMalformed = errors.New("seal: malformed")

// Key is one node's key; a leaf's seals one message's content.
type Key [32]byte

// node is a subtree the tree still holds: the leaves whose top depth bits
// are prefix.
type node struct {
	depth  uint8
	prefix uint32
	key    Key
}

// covers reports whether n's subtree holds leaf i.
func (n node) covers(i uint32) bool { return n.depth == 0 || i>>(Depth-n.depth) == n.prefix }

// child is n's child on bit b.
func (n node) child(b uint32) node {
	var in [33]byte
	copy(in[:], n.key[:])
	in[32] = byte(b)
	return node{depth: n.depth + 1, prefix: n.prefix<<1 | b, key: sha256.Sum256(in[:])}
}

// Tree is one scope's key tree. Its methods are safe for concurrent use;
// a punctured tree is a new value (Punctured) for the keyring to store,
// so that one in use is never changed under a reader.
type Tree struct {
	id    [8]byte
	nodes []node // disjoint subtrees, in leaf order

	mu    sync.Mutex
	cache node // the last leaf's parent at cacheDepth, or depth 0 when none
}

// cacheDepth is the depth of the node a Tree keeps from its last
// derivation: consecutive message indices share it, so sealing the next
// message derives 8 levels instead of 32.
const cacheDepth = Depth - 8

// NewTree returns a tree with a random root and a random id.
func NewTree() (*Tree, error) {
	t := &Tree{nodes: []node{{}}}
	if _, err := rand.Read(t.nodes[0].key[:]); err != nil {
		return nil, fmt.Errorf("seal: new tree: %w", err)
	}
	if _, err := rand.Read(t.id[:]); err != nil {
		return nil, fmt.Errorf("seal: new tree: %w", err)
	}
	return t, nil
}

// ID is the tree's id, in every value it sealed: a scope erased and made
// again has another tree, and its values say which one sealed them.
func (t *Tree) ID() string { return hex.EncodeToString(t.id[:]) }

// Erased reports whether the tree holds no leaf at all.
func (t *Tree) Erased() bool { return len(t.nodes) == 0 }

// Leaf returns leaf i's key, or ErrErased.
func (t *Tree) Leaf(i uint32) (Key, error) {
	t.mu.Lock()
	c := t.cache
	t.mu.Unlock()
	if c.depth != cacheDepth || !c.covers(i) {
		n, ok := t.cover(i)
		if !ok {
			return Key{}, ErrErased
		}
		c = derive(n, i, max(n.depth, cacheDepth))
		if c.depth == cacheDepth {
			t.mu.Lock()
			t.cache = c
			t.mu.Unlock()
		}
	}
	return derive(c, i, Depth).key, nil
}

// cover is the node holding leaf i, if any.
func (t *Tree) cover(i uint32) (node, bool) {
	for _, n := range t.nodes {
		if n.covers(i) {
			return n, true
		}
	}
	return node{}, false
}

// derive walks from n down leaf i's path to depth.
func derive(n node, i uint32, depth uint8) node {
	for n.depth < depth {
		n = n.child(i >> (Depth - 1 - n.depth) & 1)
	}
	return n
}

// Punctured returns a tree holding every leaf of t but those in
// [lo, hi]: an unsend punctures one, a retention rule a range from 0.
func (t *Tree) Punctured(lo, hi uint32) *Tree {
	out := &Tree{id: t.id}
	for _, n := range t.nodes {
		out.nodes = appendOutside(out.nodes, n, lo, hi)
	}
	return out
}

// appendOutside appends the parts of n's subtree outside [lo, hi].
func appendOutside(dst []node, n node, lo, hi uint32) []node {
	first, last := span(n)
	switch {
	case last < lo || first > hi:
		return append(dst, n) // untouched
	case first >= lo && last <= hi:
		return dst // all of it punctured
	}
	dst = appendOutside(dst, n.child(0), lo, hi)
	return appendOutside(dst, n.child(1), lo, hi)
}

// span is the first and last leaf under n.
func span(n node) (first, last uint32) {
	if n.depth == 0 {
		return 0, ^uint32(0)
	}
	shift := Depth - n.depth
	first = n.prefix << shift
	return first, first | (1<<shift - 1)
}

// recordVersion is the first byte of a marshalled tree.
const recordVersion = 1

// MarshalBinary is the tree as the keyring stores it (wrapped): its
// version, id and nodes, 37 bytes each.
func (t *Tree) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 1+8+2+len(t.nodes)*37)
	b = append(append(b, recordVersion), t.id[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(t.nodes)))
	for _, n := range t.nodes {
		b = append(b, n.depth)
		b = binary.BigEndian.AppendUint32(b, n.prefix)
		b = append(b, n.key[:]...)
	}
	return b, nil
}

// UnmarshalBinary reads what MarshalBinary wrote, refusing anything else.
func (t *Tree) UnmarshalBinary(b []byte) error {
	if len(b) < 11 || b[0] != recordVersion {
		return fmt.Errorf("%w: tree record", ErrMalformed)
	}
	count := int(binary.BigEndian.Uint16(b[9:11]))
	if len(b) != 11+count*37 {
		return fmt.Errorf("%w: tree record of %d bytes for %d nodes", ErrMalformed, len(b), count)
	}
	*t = Tree{nodes: make([]node, count)}
	copy(t.id[:], b[1:9])
	for i := range t.nodes {
		r := b[11+i*37:]
		n := node{depth: r[0], prefix: binary.BigEndian.Uint32(r[1:5])}
		copy(n.key[:], r[5:37])
		if n.depth > Depth || n.depth < Depth && n.prefix>>n.depth != 0 {
			return fmt.Errorf("%w: node %d", ErrMalformed, i)
		}
		t.nodes[i] = n
	}
	slices.SortFunc(t.nodes, func(a, b node) int { f, _ := span(a); g, _ := span(b); return cmpU32(f, g) })
	return nil
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
