// Package projector turns the crosstalk event log into read views in a
// Pebble store, and answers the queries from them.
//
// The log (JetStream, read through a Source) is the only truth; the store is
// a projection that can be deleted and rebuilt by replay. Apply folds a run
// of log messages into the views in one Pebble batch together with the
// checkpoint (the stream sequence of the last applied message), so a crash
// never leaves a view ahead of or behind the checkpoint, and a restart
// resumes after it without applying anything twice. The event bytes are kept
// verbatim under hist/, so closing a conversation or re-deriving a view never
// rewrites history.
//
// The read functions (Inbox, Messages, Presence, Conversation, Policies, ...)
// read Pebble only. Visibility of activity status and read receipts is
// decided at query time from the policy in force at the caller's clock and
// the account's own settings, so a newly effective policy hides what it
// should without touching stored data.
package projector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable/block"

	"github.com/crosstalk-dev/crosstalk/events"
)

// ErrClosed reports a call on a Store after Close.
var ErrClosed = errors.New("projector store is closed")

// Source is the log the projector follows: Read calls fn with runs of at
// most maxBatch messages in stream order, starting at fromSeq, until ctx is
// done or fn returns an error. *eventlog.Log implements it.
type Source interface {
	Read(ctx context.Context, fromSeq uint64, maxBatch int, fn func([]events.Message) error) error
}

// Store is the projector's Pebble store: the views, the verbatim history and
// the checkpoint. Apply (or Run) is its only writer; the read functions may
// be called concurrently with it and with each other.
type Store struct {
	opts Options
	db   *pebble.DB
	log  *slog.Logger

	applyMu sync.Mutex   // serializes Apply: one batch at a time, in order
	records *recordCache // Apply's committed records; guarded by applyMu
	feed    feedState    // the live feeds (feeds.go); guarded by applyMu

	// life is held shared by every use of db and exclusively by Close, so
	// that Close waits for them and nothing touches a closed Pebble.
	life sync.RWMutex

	// mu guards checkpoint, advanced and closed. advanced is closed and
	// replaced each time the checkpoint moves: a broadcast to WaitFor.
	mu          sync.Mutex
	checkpoints []uint64 // one per stream (Options.Streams)
	advanced    chan struct{}
	closed      bool
	done        chan struct{} // closed by Close, wakes WaitFor for good
}

// Open opens (or creates) the store in opts.Dir and loads its checkpoint.
// It refuses options Options.Validate refuses.
func Open(opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.EnsureDefaults()
	db, err := pebble.Open(opts.Dir, pebbleOptions(opts))
	if err != nil {
		return nil, fmt.Errorf("open projector store in %s: %w", opts.Dir, err)
	}
	cps, err := loadCheckpoints(db, opts.Streams)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("read checkpoint of %s: %w", opts.Dir, err)
	}
	return &Store{
		opts: opts, db: db, log: opts.Logger, records: newRecordCache(opts.RecordCache),
		checkpoints: cps, advanced: make(chan struct{}), done: make(chan struct{}),
		feed: feedState{feeds: opts.Feeds, after: opts.FeedsAfter, n: mustLRU[events.Account, uint64](opts.RecordCache)},
	}, nil
}

// pebbleOptions tunes Pebble for the projector's access pattern.
func pebbleOptions(opts Options) *pebble.Options {
	po := &pebble.Options{CacheSize: opts.CacheSize, Logger: pebbleLogger{opts.Logger}}
	// Apply looks up keys that mostly do not exist yet (a new message id,
	// a first read marker); bloom filters answer those without reading
	// every level. Levels below inherit L0's policy.
	po.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	// Most of what Apply writes is overwritten soon (conversation records,
	// unread counters, inbox positions move with every message). A 64 MiB
	// memtable (Pebble's default is 4 MiB) absorbs those overwrites before
	// they reach disk, so far fewer bytes are flushed and compacted.
	po.MemTableSize = 64 << 20
	po.MemTableStopWritesThreshold = 4
	// Pebble charges every memtable it holds to the block cache (the
	// mutable one, and the one it keeps to recycle), so a cache of
	// CacheSize alone was all reservation and cached no block at all: a
	// query on a store larger than the memtable read and decompressed its
	// blocks from disk every time. The cache is sized for both memtables
	// on top of CacheSize, which the block cache gets.
	po.CacheSize = opts.CacheSize + memtablesReserved*int64(po.MemTableSize)
	po.ApplyCompressionSettings(compressionSettings)
	return po
}

// memtablesReserved is how many memtables Pebble holds, and charges to the
// block cache, in the steady state: the mutable one and a recycled one.
const memtablesReserved = 2

// compressionSettings leaves the upper levels uncompressed and compresses
// the two bottom ones, which hold most of the data. The upper levels are
// where the views' records are rewritten again and again; compressing
// every rewrite cost 13% of the catch-up's CPU (snappy, in the bench), and
// on two cores the CPU is scarcer than the disk.
func compressionSettings() pebble.DBCompressionSettings {
	s := pebble.DBCompressionSettings{Name: "crosstalk"}
	for i := range s.Levels {
		s.Levels[i] = block.NoCompression
		if i >= len(s.Levels)-2 {
			s.Levels[i] = block.FastestCompression
		}
	}
	return s
}

// Close waits for running Apply and read calls, wakes every WaitFor with
// ErrClosed and closes Pebble. Later calls return ErrClosed. Stop Run first,
// or it returns ErrClosed from its next Apply.
func (s *Store) Close() error {
	s.life.Lock()
	defer s.life.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close projector store in %s: %w", s.opts.Dir, err)
	}
	return nil
}

// Checkpoint returns the stream sequence of the last applied message, 0 for
// an empty store. For a store of several streams (Options.Streams) it is
// the sum of their checkpoints: how many positions are applied, for
// progress and lag; Checkpoints and WaitForAll compare positions.
func (s *Store) Checkpoint() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sum(s.checkpoints)
}

// advance publishes stream's committed checkpoint and wakes every waiter.
func (s *Store) advance(stream int, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkpoints[stream] = seq
	close(s.advanced)
	s.advanced = make(chan struct{})
}

// WaitFor blocks until Checkpoint() >= seq, ctx is done (it returns
// ctx.Err()) or the store is closed (ErrClosed). Queries with min_seq use it
// to read their own writes.
func (s *Store) WaitFor(ctx context.Context, seq uint64) error {
	return s.waitUntil(ctx, func(cps []uint64) bool { return sum(cps) >= seq })
}

// waitUntil blocks until reached holds of the checkpoints, ctx is done or
// the store is closed.
func (s *Store) waitUntil(ctx context.Context, reached func([]uint64) bool) error {
	for {
		s.mu.Lock()
		ok, advanced, closed := reached(s.checkpoints), s.advanced, s.closed
		s.mu.Unlock()
		switch {
		case ok:
			return nil
		case closed:
			return ErrClosed
		}
		select {
		case <-advanced:
		case <-s.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Run follows src from Checkpoint()+1 and applies what it reads until ctx is
// done, then returns nil. It applies each run while src reads the next (see
// pipeline). When the source fails, Run logs it and follows
// again from the last committed batch after a pause that grows to 5s, so a
// broker restart or a leader election stalls the views, never stops them;
// only a closed store ends Run with an error.
func (s *Store) Run(ctx context.Context, src Source) error {
	return s.follow(ctx, 0, src.Read)
}

// follow is Run on one stream, read by read.
func (s *Store) follow(ctx context.Context, stream int, read readFunc) error {
	backoff := s.opts.RetryInterval
	for {
		from := s.checkpointOf(stream) + 1
		p := s.streamPipeline(stream)
		err := read(ctx, from, s.opts.MaxBatch, p.feed)
		if applyErr := p.wait(); applyErr != nil {
			err = applyErr // the cause; Read may have stopped for ctx first
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrClosed) {
			return err
		}
		if err != nil {
			// The log is unreachable (a broker restart, a leader election):
			// the views wait, and follow again with a growing pause. A
			// failure of Pebble itself (ErrClosed) ends Run instead.
			s.opts.Logger.Warn("projector: follow the log", slog.Int("stream", stream), slog.Uint64("from_seq", from),
				slog.Any("err", err), slog.Duration("retry_in", backoff))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		if err != nil {
			backoff = min(2*backoff, maxRetryInterval)
		} else {
			backoff = s.opts.RetryInterval
		}
	}
}

// maxRetryInterval caps the pause between attempts to follow the log.
const maxRetryInterval = 5 * time.Second

// acquire marks a use of db; the caller calls release when done with it.
func (s *Store) acquire() (release func(), err error) {
	s.life.RLock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		s.life.RUnlock()
		return nil, ErrClosed
	}
	return s.life.RUnlock, nil
}

// reader is what the views are read through: the DB (also by Apply, which
// holds what its run wrote itself; see ownWrites) or a snapshot for a
// consistent multi-key query.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// snapshot opens a consistent view for a query that reads several keys, so
// that it never mixes two applied batches. release closes it.
func (s *Store) snapshot() (snap *pebble.Snapshot, release func(), err error) {
	done, err := s.acquire()
	if err != nil {
		return nil, nil, err
	}
	snap = s.db.NewSnapshot()
	return snap, func() { _ = snap.Close(); done() }, nil
}

// Settle waits until Pebble's flushes and compactions have quieted down:
// none running and none started for settleQuiet. That is the shape a store
// reaches soon after a burst of writes stops (Pebble compacts a level only
// once it is over its target, so "no compaction owed" may never come). A
// read measured on a store just built in bulk otherwise measures the
// backlog the build left (overlapping L0 files, each consulted by every
// seek) rather than the store.
func (s *Store) Settle(ctx context.Context) error {
	var last int64 = -1
	quietSince := time.Now()
	for {
		release, err := s.acquire()
		if err != nil {
			return err
		}
		m := s.db.Metrics()
		release()
		busy := m.Compact.NumInProgress > 0 || m.Flush.NumInProgress > 0
		if busy || m.Compact.Count != last {
			last, quietSince = m.Compact.Count, time.Now()
		} else if time.Since(quietSince) >= settleQuiet {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// settleQuiet is how long Settle wants Pebble idle.
const settleQuiet = time.Second
