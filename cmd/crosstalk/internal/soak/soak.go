// Package soak drives a steady, bounded load through a crosstalk service and
// samples the process's memory and goroutine counts, so that a leak shows as
// a trend rather than hiding in a short test.
package soak

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Options tune a soak run.
type Options struct {
	// Duration bounds the run. Default: 10 minutes.
	Duration time.Duration
	// Clients is the number of producers. Default: 8.
	Clients int
	// PerConversation is how many messages a producer sends in one
	// conversation before it starts the next, so that every aggregate stays
	// small and memory is bounded by the service's cache, not by history.
	// Default: 50.
	PerConversation int
	// SampleEvery spaces the samples. Default: Duration/20.
	SampleEvery time.Duration
	// Warmup is how long the process grows before it may be judged:
	// JetStream's duplicate window (2 minutes of command ids), Pebble's
	// memtables and the service's caches fill first. Default: 3 minutes.
	Warmup time.Duration
	// Progress, if not nil, is told each sample as it is taken.
	Progress func(Sample)
}

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Duration <= 0 {
		o.Duration = 10 * time.Minute
	}
	if o.Clients <= 0 {
		o.Clients = 8
	}
	if o.PerConversation <= 0 {
		o.PerConversation = 50
	}
	if o.SampleEvery <= 0 {
		o.SampleEvery = o.Duration / 20
	}
	if o.Warmup <= 0 {
		o.Warmup = 3 * time.Minute
	}
}

// minJudged is how many samples after the warm-up a verdict needs.
const minJudged = 8

// Sample is one reading of the process.
type Sample struct {
	At       time.Duration `json:"at"`
	Commands int64         `json:"commands"`
	// HeapLive is what the last collection found live: what a leak grows.
	HeapLive uint64 `json:"heap_live_bytes"`
	// HeapInuse is the heap's spans in use, fragmentation included: the
	// process's footprint, which also grows with the rate (JetStream's
	// duplicate window holds two minutes of command ids, interleaved with
	// short-lived garbage in the same spans).
	HeapInuse  uint64 `json:"heap_inuse_bytes"`
	Goroutines int    `json:"goroutines"`
}

// Result is a soak run's samples and its verdict.
type Result struct {
	Samples  []Sample `json:"samples"`
	Commands int64    `json:"commands"`
	Errors   int64    `json:"errors"`
	// Judged is false when the run ended too soon after its warm-up to
	// say: fewer than minJudged samples were taken after it.
	Judged bool `json:"judged"`
	// Flat is true when, among the samples after the warm-up, the last
	// quarter's averages of the live heap and goroutines are within 25% of
	// the first quarter's: no steady growth once warm. Only meaningful
	// when Judged.
	Flat bool `json:"flat"`
	// Warmup is the warm-up the verdict left out.
	Warmup time.Duration `json:"warmup"`
}

// Run starts Clients producers, each sending PerConversation messages in a
// conversation before starting the next, until Duration has passed,
// sampling the process meanwhile.
func Run(ctx context.Context, c *client.Client, opts Options) (Result, error) {
	opts.EnsureDefaults()
	ctx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for i := range opts.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			produce(ctx, c, i, opts.PerConversation, &ok, &failed)
		}()
	}
	res := Result{Warmup: opts.Warmup}
	res.Samples = sample(ctx, opts.SampleEvery, ok.Load, opts.Progress)
	wg.Wait()
	res.Commands, res.Errors = ok.Load(), failed.Load()
	res.Judged, res.Flat = Judge(res.Samples, opts.Warmup)
	return res, nil
}

// produce sends until ctx is done; it counts replies and errors.
func produce(ctx context.Context, c *client.Client, worker, per int, ok, failed *atomic.Int64) {
	conv := ""
	for i := 0; ctx.Err() == nil; i++ {
		a, b := events.Account(fmt.Sprintf("soak:w%d_%d_a", worker, i/per)), events.Account(fmt.Sprintf("soak:w%d_%d_b", worker, i/per))
		body := map[string]any{"command_id": uuid.NewString(), "actor": a}
		action := "message.send"
		if i%per == 0 {
			action, body["participants"] = "conversation.start", []events.Account{b}
		} else {
			body["conversation_id"], body["text"] = conv, "soak"
		}
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r, err := c.Command(rctx, "soak", action, body)
		cancel()
		switch {
		case err != nil:
			failed.Add(1)
		case action == "conversation.start":
			conv = r.ConversationID
		default:
			ok.Add(1)
		}
	}
}

// sample takes a sample now and every interval until ctx is done, telling
// progress (if not nil) each one.
func sample(ctx context.Context, every time.Duration, commands func() int64, progress func(Sample)) []Sample {
	start := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	var out []Sample
	for {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		out = append(out, Sample{At: time.Since(start).Round(time.Second), Commands: commands(),
			HeapLive: liveHeap(), HeapInuse: ms.HeapInuse, Goroutines: runtime.NumGoroutine()})
		if progress != nil {
			progress(out[len(out)-1])
		}
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
	}
}

// Judge compares, among the samples taken after warmup, the last quarter
// with the first; judged is false with fewer than minJudged of them.
func Judge(s []Sample, warmup time.Duration) (judged, flat bool) {
	i := 0
	for i < len(s) && s[i].At < warmup {
		i++
	}
	warm := s[i:]
	if len(warm) < minJudged {
		return false, false
	}
	q := len(warm) / 4
	heap := func(xs []Sample) float64 { return avg(xs, func(x Sample) float64 { return float64(x.HeapLive) }) }
	gor := func(xs []Sample) float64 { return avg(xs, func(x Sample) float64 { return float64(x.Goroutines) }) }
	early, late := warm[:q], warm[len(warm)-q:]
	return true, heap(late) <= 1.25*heap(early) && gor(late) <= 1.25*gor(early)
}

func avg(xs []Sample, f func(Sample) float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += f(x)
	}
	return sum / float64(len(xs))
}

// liveHeap is the live heap the last collection marked
// (runtime/metrics' /gc/heap/live:bytes).
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
