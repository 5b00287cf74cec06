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
	// current is true once the command under way has caught state up with
	// the log (catchUp); begin clears it. A refusal decided on a state
	// that is not current is decided again after a catch-up (decide).
	current bool
	home    *cache // the cache it was made in; nil for the policy entry
	// snapVersion is the version of the conversation's latest snapshot
	// this entry knows of (snapshots.go).
	snapVersion uint64
	// keepAgainAt is the spill's size at which keep tries again after a
	// failure; 0 after a success.
	keepAgainAt int
}

// begin starts a command on e: its cached state is not known current. The
// caller holds e.mu.
func (e *entry) begin() { e.current = false }

// reset forgets the state, so the next command loads it from the log. Used
// when an append's outcome is unknown.
func (e *entry) reset() {
	e.state = e.fresh()
	e.loaded = false
	e.snapVersion = 0
}

// settle moves e into its cache proper once its aggregate has events. The
// caller holds e.mu.
func (e *entry) settle() {
	if e.home != nil && e.state.Position().LastSeq > 0 {
		e.home.promote(e)
	}
}

// maxProbation bounds the entries of aggregates not known to exist.
const maxProbation = 1024

// cache keeps the most recently used aggregates, up to max. A new entry
// waits on probation, a small LRU of its own, until a command finds its
// aggregate has events (settle); only then does it take a place among the
// aggregates proper. So commands on conversations that do not exist, each
// a miss answered 404, evict one another and never a hot aggregate.
// Evicting an entry that is in use is harmless: a second entry for the same
// aggregate only costs an optimistic-concurrency retry.
type cache struct {
	mu        sync.Mutex
	max       int
	order     *list.List // front = most recently used; values are *entry
	items     map[string]*list.Element
	probation *list.List // entries not yet settled, likewise
	probing   map[string]*list.Element
}

func newCache(max int) *cache {
	return &cache{max: max, order: list.New(), items: make(map[string]*list.Element),
		probation: list.New(), probing: make(map[string]*list.Element)}
}

// get returns the entry for subject, making one on probation with fresh if
// absent.
func (c *cache) get(subject string, fresh func() state) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[subject]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*entry)
	}
	if el, ok := c.probing[subject]; ok {
		c.probation.MoveToFront(el)
		return el.Value.(*entry)
	}
	e := &entry{subject: subject, fresh: fresh, state: fresh(), home: c}
	c.probing[subject] = c.probation.PushFront(e)
	evict(c.probation, c.probing, min(c.max, maxProbation))
	return e
}

// promote moves e from probation to the aggregates proper, unless another
// entry for its subject is there already.
func (c *cache) promote(e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[e.subject]; ok {
		return
	}
	if el, ok := c.probing[e.subject]; ok && el.Value == e {
		c.probation.Remove(el)
		delete(c.probing, e.subject)
	}
	c.items[e.subject] = c.order.PushFront(e)
	evict(c.order, c.items, c.max)
}

// evict drops the least recently used entries of order beyond max.
func evict(order *list.List, items map[string]*list.Element, max int) {
	for order.Len() > max {
		old := order.Back()
		order.Remove(old)
		delete(items, old.Value.(*entry).subject)
	}
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
	if el, ok := c.probing[subject]; ok {
		c.probation.Remove(el)
		delete(c.probing, subject)
	}
}

// len reports how many aggregates are cached, on probation included.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len() + c.probation.Len()
}
