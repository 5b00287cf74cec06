package projector

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/crosstalk-dev/crosstalk/projector/views"

	"github.com/crosstalk-dev/crosstalk/events"
)

// A store of several streams (Options.Streams > 1) follows a partitioned
// log: each stream is applied in its own order, with a checkpoint of its
// own (meta/checkpoint/<i>), and "the views have applied position p" means
// every stream's checkpoint has reached p's entry for it. Events of
// different streams are applied in the order they arrive: no event of one
// aggregate is in two streams, so the order that matters, a subject's, is
// kept.

// readFunc is a Source's Read.
type readFunc func(ctx context.Context, fromSeq uint64, maxBatch int, fn func([]events.Message) error) error

// ErrStreams reports a store opened with another number of streams than it
// was built with.
var ErrStreams = views.ErrStreams

// Streams is a log of several streams, each read on its own, in the order
// of the store's checkpoints. *eventlog.Log implements it.
type Streams interface {
	ReadStream(ctx context.Context, stream int, fromSeq uint64, maxBatch int, fn func([]events.Message) error) error
}

// RunStreams is Run for a store of several streams: it follows each stream
// of src from its checkpoint, until ctx is done.
func (s *Store) RunStreams(ctx context.Context, src Streams) error {
	errs := make([]error, len(s.checkpoints))
	var wg sync.WaitGroup
	for i := range s.checkpoints {
		wg.Go(func() {
			errs[i] = s.follow(ctx, i, func(ctx context.Context, from uint64, n int, fn func([]events.Message) error) error {
				return src.ReadStream(ctx, i, from, n, fn)
			})
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Checkpoints returns each stream's checkpoint, in stream order.
func (s *Store) Checkpoints() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.checkpoints...)
}

// WaitForAll blocks until each stream's checkpoint is at least the entry of
// seqs for it (seqs has one entry per stream), ctx is done or the store is
// closed (ErrClosed).
func (s *Store) WaitForAll(ctx context.Context, seqs []uint64) error {
	if len(seqs) != len(s.checkpoints) {
		return fmt.Errorf("wait for %d positions: the store follows %d stream(s)", len(seqs), len(s.checkpoints))
	}
	return s.waitUntil(ctx, func(cps []uint64) bool {
		for i, seq := range seqs {
			if cps[i] < seq {
				return false
			}
		}
		return true
	})
}

// checkpointOf returns stream's checkpoint.
func (s *Store) checkpointOf(stream int) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkpoints[stream]
}

// checkpointKey is the key of stream's checkpoint: meta/checkpoint, as
// before partitions, for a store of one stream.
func (s *Store) checkpointKey(stream int) []byte {
	if len(s.checkpoints) == 1 {
		return views.CheckpointKey()
	}
	return views.StreamCheckpointKey(stream)
}

// feedsAfter is Options.FeedsAfter for stream.
func (s *Store) feedsAfter(stream int) uint64 {
	if len(s.opts.FeedsAfterStreams) > 0 {
		return s.opts.FeedsAfterStreams[stream]
	}
	return s.feed.after
}

// sum is the sum of seqs.
func sum(seqs []uint64) uint64 {
	var n uint64
	for _, s := range seqs {
		n += s
	}
	return n
}

// maxEach is the larger of a's and b's entry at each index of a; b may be
// shorter.
func maxEach(a, b []uint64) []uint64 {
	out := append([]uint64(nil), a...)
	for i := range min(len(a), len(b)) {
		out[i] = max(a[i], b[i])
	}
	return out
}
