package service

import (
	"sync"
	"time"
)

// Clock tells the service what time it is. Decisions, event times and
// policy effective times all read it, and nothing else in the command path
// reads the wall clock, so a simulated clock replays history on its dates.
type Clock interface {
	Now() time.Time
}

// WallClock is the real clock, in UTC. It is the default.
type WallClock struct{}

// Now returns time.Now in UTC.
func (WallClock) Now() time.Time { return time.Now().UTC() }

// SimClock is a settable clock for demos, tests and audits: it stands still
// until Set or Advance moves it. Never use it for a service that real users
// talk to.
type SimClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewSimClock returns a simulated clock that reads t.
func NewSimClock(t time.Time) *SimClock { return &SimClock{now: t.UTC()} }

// Now returns the simulated time.
func (c *SimClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *SimClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t.UTC()
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *SimClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
