package projector

import (
	"maps"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector/views"
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

// prefetch loads the records of the run's conversations that the cache
// does not hold, with one ascending scan instead of a point read each, and
// notes those that do not exist. It runs before the run writes anything.
func (t *tx) prefetch(msgs []events.Message) error {
	var ids []string
	for _, m := range msgs {
		if kind, id := events.ClassifySubject(m.Subject); kind == events.SubjectConversation && !t.cache.convs.Contains(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) < prefetchMin {
		return nil
	}
	err := views.ReadConversations(t.db, ids, func(id string, c *views.ConvRecord) error {
		t.convs[id] = &convState{id: id, rec: *c, exists: true, stored: true, activity: c.LastActivity}
		return nil
	})
	for _, id := range ids {
		if _, ok := t.convs[id]; !ok && err == nil {
			t.convs[id] = &convState{id: id} // not stored (yet): the run may start it
		}
	}
	return err
}

// prefetchMin is the fewest records worth a scan rather than point reads.
const prefetchMin = 8

// conv returns the record of conversation id held by the tx, taking it
// from the cache or Pebble the first time.
func (t *tx) conv(id string) (*convState, error) {
	if c, ok := t.convs[id]; ok {
		c.used = true
		return c, nil
	}
	c := &convState{id: id, used: true}
	if rec, ok := t.cache.conv(id); ok {
		c.rec, c.exists = rec, true
	} else {
		found, err := views.GetJSON(t.db, views.ConvKey(id), &c.rec)
		if err != nil {
			return nil, err
		}
		c.exists = found
	}
	c.stored, c.activity = c.exists, c.rec.LastActivity
	t.convs[id] = c
	return c, nil
}

// account returns the record of a held by the tx, creating it with
// defaults: an account becomes known the first time an event names it.
func (t *tx) account(a events.Account) (*views.AccountRecord, error) {
	if r, ok := t.accts[a]; ok {
		return r, nil
	}
	r, ok := t.cache.account(a)
	if !ok {
		r = views.NewAccountRecord()
		if _, err := views.GetJSON(t.db, views.AcctKey(a), r); err != nil {
			return nil, err
		}
	}
	t.accts[a] = r
	return r, nil
}
