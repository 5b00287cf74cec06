// Package soak drives a steady, bounded load through a crosstalk service and
// samples the process's memory and goroutine counts, so that a leak shows as
// a trend rather than hiding in a short test.
package soak

import (
	"context"
	"fmt"
	"runtime"
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
}

// Sample is one reading of the process.
type Sample struct {
	At         time.Duration `json:"at"`
	Commands   int64         `json:"commands"`
	HeapInuse  uint64        `json:"heap_inuse_bytes"`
	Goroutines int           `json:"goroutines"`
}

// Result is a soak run's samples and its verdict.
type Result struct {
	Samples  []Sample `json:"samples"`
	Commands int64    `json:"commands"`
	Errors   int64    `json:"errors"`
	// Flat is true when the last quarter's averages of heap and goroutines
	// are within 25% of the second quarter's: no steady growth after warm-up.
	Flat bool `json:"flat"`
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
	var res Result
	res.Samples = sample(ctx, opts.SampleEvery, ok.Load)
	wg.Wait()
	res.Commands, res.Errors = ok.Load(), failed.Load()
	res.Flat = flat(res.Samples)
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

func sample(ctx context.Context, every time.Duration, commands func() int64) []Sample {
	start := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	var out []Sample
	for {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		out = append(out, Sample{At: time.Since(start).Round(time.Second), Commands: commands(),
			HeapInuse: ms.HeapInuse, Goroutines: runtime.NumGoroutine()})
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
	}
}

// flat compares the last quarter of the samples with the second quarter.
func flat(s []Sample) bool {
	if len(s) < 8 {
		return false
	}
	q := len(s) / 4
	heap := func(xs []Sample) float64 { return avg(xs, func(x Sample) float64 { return float64(x.HeapInuse) }) }
	gor := func(xs []Sample) float64 { return avg(xs, func(x Sample) float64 { return float64(x.Goroutines) }) }
	early, late := s[q:2*q], s[len(s)-q:]
	return heap(late) <= 1.25*heap(early) && gor(late) <= 1.25*gor(early)
}

func avg(xs []Sample, f func(Sample) float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += f(x)
	}
	return sum / float64(len(xs))
}
