package projector

import (
	"maps"

	"github.com/crosstalk-dev/crosstalk/projector/views"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/crosstalk-dev/crosstalk/events"
)

// recordCache keeps the committed, decoded records that Apply reads back
// most: conversation records (with their unread counters) and account
// records. Every message rewrites its conversation's record, so without the
// cache each event costs Pebble point reads (a memtable skiplist search and
// sstable probes each) and a JSON decode; with it a steady stream of
// messages to known conversations reads none.
//
// Only the writer (Apply, under applyMu) uses it, so it needs no lock. It
// holds committed state only: a tx works on copies and commit stores them
// after the Pebble batch is committed, so a failed Apply leaves the cache
// agreeing with the store.
type recordCache struct {
	convs *simplelru.LRU[string, views.ConvRecord]
	accts *simplelru.LRU[events.Account, views.AccountRecord]
}

// newRecordCache returns a cache of n conversations and n accounts.
func newRecordCache(n int) *recordCache {
	return &recordCache{
		convs: mustLRU[string, views.ConvRecord](n),
		accts: mustLRU[events.Account, views.AccountRecord](n),
	}
}

func mustLRU[K comparable, V any](n int) *simplelru.LRU[K, V] {
	c, err := simplelru.NewLRU[K, V](max(n, 1), nil)
	if err != nil {
		panic(err) // only for a size < 1, which max rules out
	}
	return c
}

// conv returns a copy of the cached record of conversation id that the
// caller may change freely.
func (c *recordCache) conv(id string) (views.ConvRecord, bool) {
	r, ok := c.convs.Get(id)
	if ok && r.LastMessage != nil {
		lm := *r.LastMessage
		r.LastMessage = &lm
	}
	r.Unread = maps.Clone(r.Unread)
	return r, ok
}

// account returns a copy of the cached record of a.
func (c *recordCache) account(a events.Account) (*views.AccountRecord, bool) {
	r, ok := c.accts.Get(a)
	if !ok {
		return nil, false
	}
	if r.LastActiveAt != nil {
		at := *r.LastActiveAt
		r.LastActiveAt = &at
	}
	return &r, true
}

// commit remembers what a committed tx wrote. The records are the tx's own
// copies, which it no longer changes.
func (c *recordCache) commit(t *tx) {
	for id, s := range t.convs {
		if s.exists {
			c.convs.Add(id, s.rec)
		}
	}
	for a, r := range t.accts {
		c.accts.Add(a, *r)
	}
}
