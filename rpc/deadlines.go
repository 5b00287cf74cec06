package rpc

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Deadlines hands out request contexts that end timeout after the request
// was taken up, shared by the requests taken up within one grain of each
// other. context.WithTimeout per request armed and stopped a runtime timer
// for every command (3 µs of its CPU in BenchmarkCommandPathCommandsNode's
// profile, the timer heap's sift and the cancel's bookkeeping); a shared
// context arms one timer per grain. A request's deadline is then between
// timeout and timeout + grain from its take-up: never shorter than asked.
//
// Nothing cancels a shared context but its deadline, so a request's cancel
// is a no-op: a request that ends early leaves nothing running, and the
// context it held is released with the last request that holds it.
//
// The zero Deadlines is ready to use.
type Deadlines struct {
	cur atomic.Pointer[sharedDeadline]
	mu  sync.Mutex // serialises making a new shared context
}

// sharedDeadline is one shared context and its deadline.
type sharedDeadline struct {
	ctx context.Context
	at  time.Time
}

// DeadlineGrain is the grain for timeout: a sixty-fourth of it, at most
// 50 ms, so that a deadline is at most 1.6% late and the timers armed stay
// at twenty a second whatever the load.
func DeadlineGrain(timeout time.Duration) time.Duration {
	return min(timeout/64, 50*time.Millisecond)
}

// Context returns a context under parent that ends, with cause, no
// sooner than timeout from now. Every request of one Deadlines must pass
// the same timeout and cause, and parents that differ in nothing that a
// request reads (dispatch's, which ignore the server's cancellation
// and carry no values of their own): a shared context serves them all.
func (d *Deadlines) Context(parent context.Context, timeout time.Duration, cause error) context.Context {
	need := time.Now().Add(timeout)
	if cur := d.cur.Load(); cur != nil && !cur.at.Before(need) {
		return cur.ctx
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur := d.cur.Load(); cur != nil && !cur.at.Before(need) {
		return cur.ctx // made while this one waited for mu
	}
	at := need.Add(DeadlineGrain(timeout))
	ctx, cancel := context.WithDeadlineCause(parent, at, cause)
	_ = cancel // the deadline cancels it; see the type's comment
	d.cur.Store(&sharedDeadline{ctx: ctx, at: at})
	return ctx
}
