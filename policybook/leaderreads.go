package policybook

import (
	"context"
	"sync"
)

// leaderReads shares the leader reads of Book.Fresh among the commands
// that need one at the same time. A command must be answered by a read
// that started after it arrived (an earlier one may predate a policy
// acknowledged before the command was sent), so a command arriving while a
// read is in flight waits for the next one, which every command arriving
// meanwhile joins: under load one read in flight, and one queued, serve
// them all, instead of one request to the stream leader per command.
type leaderReads struct {
	mu   sync.Mutex
	cur  *leaderRead // in flight; nil when none is
	next *leaderRead // starts when cur ends; nil until a command needs it
}

// leaderRead is one read and, once done is closed, its result.
type leaderRead struct {
	done chan struct{}
	seq  uint64
	err  error
}

// last returns the result of a read that started after the call; read
// makes it. ctx bounds only the wait of this caller: the read itself runs
// under read's own bound, since others wait for it too.
func (r *leaderReads) last(ctx context.Context, read func() (uint64, error)) (uint64, error) {
	r.mu.Lock()
	if r.cur == nil {
		c := &leaderRead{done: make(chan struct{})}
		r.cur = c
		r.mu.Unlock()
		r.run(c, read)
		return c.seq, c.err
	}
	n, owner := r.next, r.next == nil
	if owner {
		n = &leaderRead{done: make(chan struct{})}
		r.next = n
	}
	cur := r.cur
	r.mu.Unlock()
	if owner {
		go func() {
			<-cur.done // run has made n current
			r.run(n, read)
		}()
	}
	select {
	case <-n.done:
		return n.seq, n.err
	case <-ctx.Done():
		return 0, context.Cause(ctx)
	}
}

// run makes c's read and hands over to the next one, if any.
func (r *leaderReads) run(c *leaderRead, read func() (uint64, error)) {
	c.seq, c.err = read()
	r.mu.Lock()
	r.cur, r.next = r.next, nil
	r.mu.Unlock()
	close(c.done)
}
