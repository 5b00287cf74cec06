package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progressEvery is how often a running phase reports how far it has got.
const progressEvery = 100 * time.Millisecond

// phase runs work as one named phase: it tells progress, reports done()
// against total every progressEvery, records the process's CPU time in
// r.phaseCPU, and writes a CPU profile of it when Options.CPUProfile asks
// for one.
func (r *runner) phase(name string, total int64, done func() int64, work func() error) error {
	r.progress.Phase(name, total)
	defer r.progress.Done()
	stopProfile, err := r.startProfile(name)
	if err != nil {
		return err
	}
	cpu := processCPU()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				r.progress.Set(min(done(), total))
			}
		}
	})
	err = work()
	r.phaseCPU = processCPU() - cpu
	close(stop)
	wg.Wait()
	if err == nil {
		r.progress.Set(total)
	}
	return errors.Join(err, stopProfile())
}

// timedPhase is a phase that lasts d: its progress is the time elapsed.
func (r *runner) timedPhase(name string, d time.Duration, work func() error) error {
	start := time.Now()
	return r.phase(name, d.Milliseconds(), func() int64 { return time.Since(start).Milliseconds() }, work)
}

// startProfile starts a CPU profile of phase name, if asked for.
func (r *runner) startProfile(name string) (stop func() error, err error) {
	if r.opts.CPUProfile == "" {
		return func() error { return nil }, nil
	}
	path := profilePath(r.opts.CPUProfile, name)
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile %s: %w", path, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// profilePath inserts the phase name before the extension of file.
func profilePath(file, phase string) string {
	ext := filepath.Ext(file)
	return strings.TrimSuffix(file, ext) + "." + phase + ext
}

// workers runs n copies of op in parallel until d has passed, each looping
// and timing every call, and returns the latencies of the calls and the wall
// time from the start until the last call returned. The first error stops
// every worker and is returned.
func workers(ctx context.Context, n int, d time.Duration, op func(ctx context.Context, worker, i int) error) (latencies, time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stopped atomic.Bool
	timer := time.AfterFunc(d, func() { stopped.Store(true) })
	defer timer.Stop()
	var once sync.Once
	var first error
	per := make([]latencies, n)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range n {
		wg.Go(func() {
			for i := 0; !stopped.Load(); i++ {
				t := time.Now()
				if err := op(ctx, w, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
				per[w] = append(per[w], time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		return nil, elapsed, first
	}
	return slices.Concat(per...), elapsed, nil
}

// latencies are the durations of single requests.
type latencies []time.Duration

// percentile returns the p-th percentile (0 < p <= 100), zero when empty.
func (l latencies) percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// rate is count per second of elapsed.
func rate(count int, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(count) / elapsed.Seconds()
}

// requestFigure is the figure of a timed request loop.
func requestFigure(name, unit, note string, l latencies, elapsed time.Duration) Figure {
	return Figure{
		Name: name, Value: rate(len(l), elapsed), Unit: unit, P50: l.percentile(50), P99: l.percentile(99),
		Count: int64(len(l)), Elapsed: elapsed, Note: note,
	}
}
