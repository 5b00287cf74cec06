package service

import (
	"container/list"
	"sync"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
)

// state is what the command path needs of an aggregate.
type state interface {
	Decide(cmd aggregate.Command, p *aggregate.Policy, now time.Time) (events.Event, error)
	Evolve(r events.Recorded) error
	Position() *aggregate.Stream
}

// entry is one cached aggregate. Its mutex serializes the commands of one
// aggregate inside this process; optimistic concurrency on the stream
// serializes them across processes.
type entry struct {
	mu      sync.Mutex
	subject string
	fresh   func() state
	state   state
	loaded  bool
}

// reset forgets the state, so the next command loads it from the log. Used
// when an append's outcome is unknown.
func (e *entry) reset() {
	e.state = e.fresh()
	e.loaded = false
}

// cache keeps the most recently used aggregates, up to max. Evicting an
// entry that is in use is harmless: a second entry for the same aggregate
// only costs an optimistic-concurrency retry.
type cache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recently used; values are *entry
	items map[string]*list.Element
}

func newCache(max int) *cache {
	return &cache{max: max, order: list.New(), items: make(map[string]*list.Element)}
}

// get returns the entry for subject, making one with fresh if absent.
func (c *cache) get(subject string, fresh func() state) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[subject]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*entry)
	}
	e := &entry{subject: subject, fresh: fresh, state: fresh()}
	c.items[subject] = c.order.PushFront(e)
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*entry).subject)
	}
	return e
}

// forget drops the entry for subject, if cached, so that the next command
// loads the aggregate afresh. A command holding the entry finishes with it;
// its append, if any, is checked against the log's sequence as always.
func (c *cache) forget(subject string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[subject]; ok {
		c.order.Remove(el)
		delete(c.items, subject)
	}
}

// len reports how many aggregates are cached.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
