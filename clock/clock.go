// Package clock tells crosstalk what time it is: the wall clock in UTC, or
// a simulated clock that stands still until it is moved. Decisions, event
// times and policy effective times all read a Clock, and nothing on the
// command path reads the wall clock otherwise, so a simulated clock replays
// history on its dates (the demo, the bench, tests and audits).
package clock

import (
	"sync"
	"time"
)

// Clock tells what time it is.
type Clock interface {
	Now() time.Time
}

// Wall is the real clock, in UTC. It is the default everywhere.
type Wall struct{}

// Now returns time.Now in UTC.
func (Wall) Now() time.Time { return time.Now().UTC() }

// Sim is a settable clock for demos, tests and audits: it stands still
// until Set or Advance moves it. Never use it for a service that real
// users talk to.
type Sim struct {
	mu  sync.Mutex
	now time.Time
}

// NewSim returns a simulated clock that reads t.
func NewSim(t time.Time) *Sim { return &Sim{now: t.UTC()} }

// Now returns the simulated time.
func (c *Sim) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Sim) Set(t time.Time) {
	c.mu.Lock()
	c.now = t.UTC()
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *Sim) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
