package rpc

import (
	"context"
	"sync"
	"testing"
	"time"
)

// idleWorkers waits until n workers are idle and returns them, bottom
// first.
func idleWorkers(t *testing.T, p *workerPool, n int) []*worker {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		idle := append([]*worker(nil), p.idle...)
		p.mu.Unlock()
		if len(idle) == n {
			return idle
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d idle workers, want %d", len(idle), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// After a burst has made many workers, one request at a time runs on the
// worker that went idle last: the others stay parked (and idle out), so
// the garbage collector's stack shrinking costs the hot worker alone.
func TestWorkerPoolHandsJobsToTheLastIdle(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := &workerPool{ctx: ctx}
	defer p.wait()
	defer cancel()
	const burst = 8
	var started, release sync.WaitGroup
	started.Add(burst)
	release.Add(1)
	for range burst {
		p.run(func() { started.Done(); release.Wait() })
	}
	started.Wait()
	release.Done()
	before := idleWorkers(t, p, burst)
	for range 100 {
		done := make(chan struct{})
		p.run(func() { close(done) })
		<-done
		idleWorkers(t, p, burst) // back on the stack before the next
	}
	after := idleWorkers(t, p, burst)
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("idle stack changed at %d after sequential jobs: the jobs went round the workers", i)
		}
	}
}

// A worker idle for a whole tick ends; a done context ends them all.
func TestWorkerPoolWorkersEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := &workerPool{ctx: ctx}
	done := make(chan struct{})
	p.run(func() { close(done) })
	<-done
	idleWorkers(t, p, 1)
	cancel()
	ended := make(chan struct{})
	go func() { p.wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("an idle worker outlived its pool's context")
	}
	if n := len(idleWorkers(t, p, 0)); n != 0 {
		t.Fatalf("%d workers left on the idle stack", n)
	}
}
