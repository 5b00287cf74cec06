package keyring

import (
	"bytes"
	"context"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/seal"
)

// Seal seals text, the content of leaf (a message index) in scope, bound
// to ad (seal.AD), making the scope's tree if it has none.
func (r *Ring) Seal(ctx context.Context, scope Scope, leaf uint32, ad []byte, text string) (string, error) {
	id, k, err := r.Leaf(ctx, scope, leaf)
	if err != nil {
		return "", err
	}
	return seal.Seal(k, id, leaf, ad, text)
}

// Digest is the keyed stand-in for text at leaf of scope (seal.Digest).
func (r *Ring) Digest(ctx context.Context, scope Scope, leaf uint32, text string) (string, error) {
	_, k, err := r.Leaf(ctx, scope, leaf)
	if err != nil {
		return "", err
	}
	return seal.Digest(k, text), nil
}

// Leaf is leaf's key in scope's tree, made if missing, and the tree's id:
// what seal.Digest and seal.Seal take. A command that digests then seals
// one content asks once (the scope's subject hashed, its tree looked up,
// the leaf derived: a third of sealing's cost, asked twice).
func (r *Ring) Leaf(ctx context.Context, scope Scope, leaf uint32) (treeID string, key seal.Key, err error) {
	t, err := r.tree(ctx, scope)
	if err != nil {
		return "", seal.Key{}, err
	}
	key, err = t.Leaf(leaf)
	return t.ID(), key, err
}

// Open opens sealed, scope's content bound to ad. It reports ErrErased
// when the key is gone: the scope's tree erased (a tree made since has
// another id), or the leaf punctured.
func (r *Ring) Open(ctx context.Context, scope Scope, ad []byte, sealed string) (string, error) {
	s, err := seal.Parse(sealed)
	if err != nil {
		return "", err
	}
	c, err := r.current(ctx, scope.subject())
	if err != nil {
		return "", err
	}
	if c.tree == nil || c.tree.ID() != s.TreeID {
		return "", fmt.Errorf("%w: the scope's tree that sealed it is erased", ErrErased)
	}
	k, err := c.tree.Leaf(s.Leaf)
	if err != nil {
		return "", err
	}
	return s.Open(k, ad)
}

// Tree is scope's tree as this ring holds it, or ErrErased when the
// scope has none: for tools and tests that must name the key material
// itself (an erasure test searches the disk for it).
func (r *Ring) Tree(ctx context.Context, scope Scope) (*seal.Tree, error) {
	c, err := r.current(ctx, scope.subject())
	if err == nil && c.tree == nil {
		err = ErrErased
	}
	return c.tree, err
}

// sameTree reports whether a and b hold the same leaves.
func sameTree(a, b *seal.Tree) bool {
	ra, _ := a.MarshalBinary()
	rb, _ := b.MarshalBinary()
	return bytes.Equal(ra, rb)
}
