package rpc

import (
	"context"
	"slices"
	"sync"
	"time"
)

// workerIdle is the tick at which a worker goroutine that ran no request
// since the last one ends.
const workerIdle = 5 * time.Second

// workerPool runs jobs on worker goroutines, reused because a new
// goroutine per request grew (and copied) its stack again for every
// request, 8% of the command path's CPU. The worker that went idle last
// takes the next job (a stack, not a queue): the garbage collector halves
// the stack of every parked goroutine that uses little of it, and a
// worker handed a job grows it back, copying it. Handed round a queue,
// every worker ran a job between two collections and paid that each
// time (copystack, 3.3 µs of a command's 83 on a commands-only node);
// handed from a stack, the few that keep up with the load stay hot and
// the others idle out. Workers end once idle (see work) or once ctx is
// done.
type workerPool struct {
	ctx context.Context
	wg  sync.WaitGroup

	mu   sync.Mutex
	idle []*worker // the last to go idle on top
}

// worker is one worker goroutine's hand: a job arrives on jobs, which has
// room for one and is empty while the worker is on the idle stack.
type worker struct{ jobs chan func() }

// run runs job on the worker that went idle last, or on a new one.
func (p *workerPool) run(job func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.jobs <- job // never blocks: see worker
		return
	}
	p.mu.Unlock()
	p.wg.Add(1)
	go p.work(&worker{jobs: make(chan func(), 1)}, job)
}

// work runs job, then the jobs w is handed, until it has run none for a
// whole tick of workerIdle (it ends idle for one to two of them) or ctx
// is done. A tick, rather than an idle timer reset after every job,
// spares each request a timer update.
func (p *workerPool) work(w *worker, job func()) {
	defer p.wg.Done()
	idle := time.NewTicker(workerIdle)
	defer idle.Stop()
	for job != nil {
		job()
		if p.ctx.Err() != nil {
			return
		}
		p.park(w)
		job = p.next(w, idle.C)
	}
}

// next waits for w's next job; nil when w is to end: no job for a whole
// tick, or ctx done.
func (p *workerPool) next(w *worker, tick <-chan time.Time) func() {
	for quiet := false; ; quiet = true {
		select {
		case job := <-w.jobs:
			return job
		case <-tick:
			if quiet {
				return p.leaveOrTake(w)
			}
		case <-p.ctx.Done():
			return p.leaveOrTake(w)
		}
	}
}

// park puts w on top of the idle stack.
func (p *workerPool) park(w *worker) {
	p.mu.Lock()
	p.idle = append(p.idle, w)
	p.mu.Unlock()
}

// leaveOrTake takes w off the idle stack and returns nil, for its
// goroutine to end; or, when run took it off first, the job run is
// handing it, which it must take.
func (p *workerPool) leaveOrTake(w *worker) func() {
	p.mu.Lock()
	i := slices.Index(p.idle, w)
	if i >= 0 {
		p.idle = slices.Delete(p.idle, i, i+1)
	}
	p.mu.Unlock()
	if i >= 0 {
		return nil
	}
	return <-w.jobs
}

// wait waits for every worker to end.
func (p *workerPool) wait() { p.wg.Wait() }
