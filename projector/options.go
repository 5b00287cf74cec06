package projector

import (
	"fmt"
	"log/slog"
	"time"
)

// Options configures a Store. The zero value of every field but Dir means
// its default; call EnsureDefaults to fill them in (Open does).
type Options struct {
	// Dir is the Pebble directory. Required; created if missing.
	Dir string

	// CacheSize is the size in bytes of Pebble's block cache.
	// Default: 64 MiB, enough to keep the inbox and conversation records of
	// a few hundred thousand active conversations hot.
	CacheSize int64

	// MaxBatch is the most log messages Run asks its Source for at a time,
	// and so the most events applied in one Pebble batch. It matters only
	// while the store is behind the log (a follower gets each batch as soon
	// as nothing more is pending): a larger batch rewrites each record it
	// touches once for more events, so it catches up faster, and commits
	// (moves the checkpoint) less often. Default: 10,000 (catch-up of
	// 200,000 events: 67 us of CPU per event at 1000, 39 us at 10,000).
	MaxBatch int

	// SyncEveryBatch makes Apply fsync each batch before it returns.
	// Default false: the views are a projection of the log, so a batch lost
	// with the machine (never half a batch: Pebble's log keeps batches
	// atomic) is applied again from the log on restart. While following a
	// live log each batch is small, and an fsync per batch costs more than
	// applying it (BenchmarkApplyLive, batches of 10: 17,700 events/s
	// without, 6,800 with).
	SyncEveryBatch bool

	// RecordCache is how many conversation records (with their unread
	// counts) and as many account records Apply keeps decoded between
	// batches, so that the next message to a known conversation
	// reads nothing from Pebble. A record is a few hundred bytes. The live
	// feeds keep as many accounts' notification counters.
	// Default: 50,000.
	RecordCache int

	// RetryInterval is how long Run waits before following the Source again
	// when Source.Read returns without an error while the context is still
	// live (a source that stops at the end of the log instead of waiting for
	// more). Default: 200ms.
	RetryInterval time.Duration

	// Logger receives warnings about poison messages and events that do not
	// fit the views, and Pebble's own log (its info lines at debug level).
	// Default: slog.Default().
	Logger *slog.Logger

	// OnApplied, when set, is called after each committed batch with how
	// many log messages it applied and how many of them were skipped as
	// poison, for the metrics. It runs on Apply's goroutine: it must be
	// quick and must not call back into the Store.
	OnApplied func(applied, poisoned int)

	// Feeds, when set, receives each account's notifications after each
	// committed batch, and the visibility notices of a policy taking
	// effect (PolicyTookEffect). Only the live store a node serves sets
	// it: a rebuild or a replay leaves it nil and publishes nothing.
	Feeds Feeds

	// Opener opens the sealed texts and reactions of the notifications
	// before they are published (docs/erasure.md): one that does not open
	// is published without its text, marked erased. Default: nil, no
	// keys, and a notification carries the sealed value as the event did.
	Opener Opener

	// FeedsAfter is the stream sequence the feeds start after: events at
	// or below it are applied without notifications. A node opening empty
	// views on a long log sets it to the log's last sequence, so that
	// building the views does not publish the history. Default 0: every
	// event not yet applied, so a restart publishes the backlog it missed.
	FeedsAfter uint64

	// Streams is the number of streams the store follows, each with a
	// checkpoint of its own: 1, the stream CROSSTALK, or a partitioned
	// log's N+1 (P0 … P{N-1}, POLICY; eventlog.Log.Streams). It is fixed
	// when the store is created: Open refuses a store of another number.
	// Default 1.
	Streams int

	// FeedsAfterStreams is FeedsAfter for each stream of a store of
	// several. Default: none, every event not yet applied.
	FeedsAfterStreams []uint64

	// PresenceFanout is the most accounts one presence.changed notifies:
	// the account itself and its partners, those of its most recently
	// active conversations first. Beyond it the notes are shed (logged):
	// the presence query still answers every partner. Default: 1024.
	PresenceFanout int

	// RunNotes is the most feed notes a batch makes before Apply commits
	// it, publishes them and goes on with the rest of the run in a new
	// batch: the notes waiting in memory are bounded (about 300 bytes
	// each) whatever the run. Default: 65,536.
	RunNotes int

	// Now is the clock that decides the policy in force for the feeds
	// (the queries take theirs from the caller). Default: time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultCacheSize      = 64 << 20
	DefaultMaxBatch       = 10_000
	DefaultRecordCache    = 50_000
	DefaultRetryInterval  = 200 * time.Millisecond
	DefaultPresenceFanout = 1024
	DefaultRunNotes       = 65_536
)

// EnsureDefaults fills every unset field with its default.
func (o *Options) EnsureDefaults() {
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.RecordCache <= 0 {
		o.RecordCache = DefaultRecordCache
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.PresenceFanout <= 0 {
		o.PresenceFanout = DefaultPresenceFanout
	}
	if o.RunNotes <= 0 {
		o.RunNotes = DefaultRunNotes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Streams = max(o.Streams, 1)
	if o.Now == nil {
		o.Now = time.Now
	}
}

// pebbleLogger routes Pebble's log into slog. Pebble's info lines are
// housekeeping (compactions, WAL recycling), so they go to debug.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), slog.String("component", "pebble"))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...), slog.String("component", "pebble"))
}

// Fatalf is called by Pebble on unrecoverable corruption; it must not
// return, and panicking keeps os.Exit in main alone.
func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.Error(msg, slog.String("component", "pebble"))
	panic("pebble: " + msg)
}
