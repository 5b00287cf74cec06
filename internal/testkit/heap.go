package testkit

import (
	"runtime/metrics"
	"sync"
	"time"
)

// heapMetric is the Go heap's bytes in use by objects, live or not yet
// swept: what the runtime's soft memory limit weighs, less stacks and
// metadata.
const heapMetric = "/memory/classes/heap/objects:bytes"

// HeapBudget is the heap a flood test allows the whole test process (the
// embedded nats-server, the node and the clients together): serve's soft
// memory limit (docs/reliability.md, "Memory"), which holds the node alone.
const HeapBudget = 1 << 30

// HeapPeak samples the process's heap every 20 ms until the returned
// function is called, which stops the sampling and returns the largest
// sample. A test of a flood reads it as an upper bound of the node's heap.
func HeapPeak() (stop func() uint64) {
	var (
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := []metrics.Sample{{Name: heapMetric}}
	read := func() {
		metrics.Read(sample)
		peak = max(peak, sample[0].Value.Uint64())
	}
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		read()
		return peak
	}
}
