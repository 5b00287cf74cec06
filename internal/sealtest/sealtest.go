// Package sealtest holds key trees in memory, one per scope (an account in
// a conversation), for the tests of the read side: it seals as the service
// will and opens as the keyring does, with the real seal package and no
// NATS, so that a test of the views, the feeds or the export holds sealed
// events whose keys it can erase.
package sealtest

import (
	"context"
	"fmt"
	"sync"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/seal"
)

// Trees is the scopes' key trees. Its methods are safe for concurrent use;
// it implements the read side's Opener.
type Trees struct {
	mu    sync.Mutex
	trees map[scope]*seal.Tree
}

type scope struct{ account, conv string }

// New returns no trees: each scope's is made when it first seals.
func New() *Trees { return &Trees{trees: map[scope]*seal.Tree{}} }

// tree is scope s's tree, made if make and it has none.
func (t *Trees) tree(s scope, make bool) (*seal.Tree, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr, ok := t.trees[s]; ok || !make {
		return tr, nil
	}
	tr, err := seal.NewTree()
	if err != nil {
		return nil, err
	}
	t.trees[s] = tr
	return tr, nil
}

// Seal seals text of account in conversation conv under message index
// leaf, bound to the event (subject, type, id) it will travel in.
func (t *Trees) Seal(account events.Account, conv string, leaf uint32, typ events.Type, eventID, text string) (string, error) {
	tr, err := t.tree(scope{string(account), conv}, true)
	if err != nil {
		return "", err
	}
	k, err := tr.Leaf(leaf)
	if err != nil {
		return "", err
	}
	ad := seal.AD(events.ConversationSubject(conv), string(typ), eventID, string(account))
	return seal.Seal(k, tr.ID(), leaf, ad, text)
}

// Open opens a sealed value of account's scope in conversation conv, or
// reports seal.ErrErased.
func (t *Trees) Open(_ context.Context, account, conv string, ad []byte, sealed string) (string, error) {
	s, err := seal.Parse(sealed)
	if err != nil {
		return "", err
	}
	tr, err := t.tree(scope{account, conv}, false)
	if err != nil || tr == nil || tr.ID() != s.TreeID {
		return "", fmt.Errorf("%w: no tree %s for %s in %s", seal.ErrErased, s.TreeID, account, conv)
	}
	k, err := tr.Leaf(s.Leaf)
	if err != nil {
		return "", err
	}
	return s.Open(k, ad)
}

// Puncture erases leaves lo..hi of account's scope in conv.
func (t *Trees) Puncture(account events.Account, conv string, lo, hi uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := scope{string(account), conv}
	if tr, ok := t.trees[s]; ok {
		t.trees[s] = tr.Punctured(lo, hi)
	}
}

// EraseAccount destroys every tree of account.
func (t *Trees) EraseAccount(account events.Account) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for s := range t.trees {
		if s.account == string(account) {
			delete(t.trees, s)
		}
	}
}
