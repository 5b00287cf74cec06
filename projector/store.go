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
// read Pebble only; they are package views', which also lays out the keys
// and records, and Store's through its embedded *views.Queries. The write
// path is here, one file per view (conversations.go, messages.go,
// inbox.go, presence.go, policies.go) over the run's write buffer
// (writebuf.go), and so are the live feeds (feeds.go). Visibility of activity status and read receipts is
// decided at query time from the policy in force at the caller's clock and
// the account's own settings, so a newly effective policy hides what it
// should without touching stored data.
package projector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector/views"
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
	// Queries answers the read functions (package views), which are
	// Store's methods through it.
	*views.Queries

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
	po := views.PebbleOptions(opts.CacheSize)
	po.Logger = pebbleLogger{opts.Logger}
	db, err := pebble.Open(opts.Dir, po)
	if err != nil {
		return nil, fmt.Errorf("open projector store in %s: %w", opts.Dir, err)
	}
	cps, err := views.LoadCheckpoints(db, opts.Streams)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("read checkpoint of %s: %w", opts.Dir, err)
	}
	s := &Store{
		opts: opts, db: db, log: opts.Logger, records: newRecordCache(opts.RecordCache),
		checkpoints: cps, advanced: make(chan struct{}), done: make(chan struct{}),
		feed: feedState{feeds: opts.Feeds, after: opts.FeedsAfter, n: mustLRU[events.Account, uint64](opts.RecordCache)},
	}
	s.Queries = views.New(db, s.acquire, s.Checkpoint)
	return s, nil
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
