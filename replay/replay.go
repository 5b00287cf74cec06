// Package replay rebuilds crosstalk's views from the history, and carries
// the history away and back: Run applies a Source (the stream, FromLog, or
// a JSONL export, ReadJSONL) to an empty projector store, bounded by a
// sequence or by the events' own time; Export writes the JSONL export; and
// BuildAsOf is the read model as of an instant, which is a Run bounded by
// time.
//
// Every read of the stream goes through audit.Walk, the one walker that
// the proofs use too, and a replay's history sum is an audit.Sum: replay
// imports audit, and audit knows nothing of replay.
package replay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// Source is a history that Run reads: the messages of the CROSSTALK
// stream in stream order. A *LogSource (the live stream) and a *JSONL (an
// export file) implement it.
type Source interface {
	// Total is how many messages Messages delivers at most, for progress
	// reports only; 0 when it is not known beforehand.
	Total() uint64
	// Messages calls fn with runs of messages in strictly increasing
	// sequence order, from the start of the history to its end, and returns
	// nil there. It stops with fn's error as it is when fn fails, and with
	// an error when ctx is done or the history cannot be read.
	Messages(ctx context.Context, fn func([]events.Message) error) error
}

// LogSource is the history of an audit.Log from seq 1 up to the last
// sequence the stream had when FromLog was called; messages appended later
// are not part of it, so a replay of a running service ends.
// A LogSource of several streams (FromStreams) is a StreamsSource.
type LogSource struct {
	logs  []audit.Log
	lasts []uint64
	last  uint64 // the sum of lasts
}

// FromLog returns the history of log as it stands now, as a Source.
func FromLog(ctx context.Context, log audit.Log) (*LogSource, error) {
	last, err := log.LastSeq(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay source: last sequence: %w", err)
	}
	return &LogSource{logs: []audit.Log{log}, lasts: []uint64{last}, last: last}, nil
}

// Total is the stream's last sequence when FromLog was called: the stream
// denies deletes, so it is also the number of its messages. Of several
// streams, it is the sum of their last sequences.
func (s *LogSource) Total() uint64 { return s.last }

// Messages reads the stream from seq 1 to Total in batches. A source of
// several streams refuses it: read those with EachStream.
func (s *LogSource) Messages(ctx context.Context, fn func([]events.Message) error) error {
	if len(s.logs) > 1 {
		return errSeveralStreams
	}
	return audit.Walk(ctx, s.logs[0], s.last, fn)
}

// Options bound a replay and report its progress. The zero value replays
// the whole source.
type Options struct {
	// UntilSeq is the last stream sequence to replay, inclusive; a history
	// that ends before it is an error, because a replay must never cover
	// less than it was asked to. A history of several streams refuses it
	// (ErrUntilSeqStreams). Default: 0, the end of the source.
	UntilSeq uint64

	// UntilTime, when not zero, replays the history as of that instant by
	// the events' own clock: exactly the events whose CloudEvents time is
	// not after it. The deciding clock orders the log, so these are a
	// prefix of it, but the replay does not rely on that: it reads to the
	// end of the source (or UntilSeq) and skips every later event. A body
	// that is not a crosstalk event has no time and is skipped too. This
	// is the only time filter: BuildAsOf is a replay with it. The broker's
	// timestamps play no part. Default: zero, no bound.
	UntilTime time.Time

	// BatchSize is the most messages applied to the store in one Pebble
	// batch, each batch being one fsync. Larger batches replay faster up to
	// a point and hold more memory. Default: DefaultBatch.
	BatchSize int

	// Progress, when set, is called after each run of messages the source
	// delivers with how many messages have been read so far and how many
	// the replay expects to read (the source's Total, bounded by UntilSeq;
	// 0 when unknown), and once more at the end. It runs on the replay's
	// goroutine: a slow Progress slows the replay. Default: nil.
	Progress func(done, total uint64)
}

// DefaultBatch is the default Options.BatchSize.
const DefaultBatch = 4000

// EnsureDefaults fills every zero field with its default.
func (o *Options) EnsureDefaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatch
	}
}

// Result is what a replay built.
type Result struct {
	// Events is how many messages were applied to the store, undecodable
	// ones (recorded as poison) included.
	Events uint64
	// Skipped is how many messages were read but not applied because their
	// time is after UntilTime (or, with UntilTime, they have none).
	Skipped uint64
	// LastSeq is the sequence of the last applied message, the store's
	// checkpoint; 0 when nothing was applied. Of several streams it is 0:
	// see LastSeqs.
	LastSeq uint64
	// LastSeqs is, of a history of several streams, the last applied
	// sequence of each, the store's checkpoints; nil of one stream.
	LastSeqs []uint64
	// Checksum is the store's views checksum (projector.Store.Checksum),
	// over Entries keys and values. Views rebuilt from the same events have
	// the same checksum whatever the batches were.
	Checksum string
	Entries  uint64
	// History is the sum of the applied messages in the format of
	// audit.Checksum: when nothing was skipped, it equals
	// audit.Checksum(log, LastSeq) of the stream the source came from,
	// which proves the replay read that history and no other.
	History audit.Sum
	// Histories is, of a history of several streams, History of each
	// stream in stream order (each equal to audit.Checksum of that stream
	// up to its LastSeqs entry), and History is then their combined sum
	// (audit.CombineSums over the streams' names, the LogSum.Hex of
	// audit.ChecksumStreams at LastSeqs); nil of one stream.
	Histories []audit.Sum
	// StreamNames names the streams of Histories, when the source names
	// them (FromStreams of eventlog.Log.Streams).
	StreamNames []string
	// Duration is the time from the start of the replay to the checksum.
	Duration time.Duration
}

// EventsPerSecond is the replay's throughput: messages read per second.
func (r Result) EventsPerSecond() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Events+r.Skipped) / r.Duration.Seconds()
}

// ErrStoreNotEmpty reports a replay into a store that already holds views.
var ErrStoreNotEmpty = errors.New("the store already holds views")

// errReplayDone stops the source once the replay has passed UntilSeq.
var errReplayDone = errors.New("replay: done")

// Run rebuilds the views from src into dst, an empty store: it reads the
// history in order from its start and applies it in batches of
// opts.BatchSize, up to opts.UntilSeq and as of opts.UntilTime, then
// computes dst's checksum. The store is left open, at the last applied
// sequence.
//
// A replay that fails leaves dst holding the batches applied so far; throw
// it away. dst must be fresh (checkpoint 0), because the projector skips
// whatever is at or below its checkpoint and a replay onto other views
// would not be a rebuild.
func Run(ctx context.Context, src Source, dst *projector.Store, opts Options) (Result, error) {
	if err := opts.Validate(); err != nil {
		return Result{}, err
	}
	opts.EnsureDefaults()
	n, streams := streamsOf(src)
	if err := checkTarget(dst, n, opts); err != nil {
		return Result{}, err
	}
	start := time.Now()
	r := &replayer{opts: opts, dst: dst, total: src.Total(), sums: make([]*audit.Summer, n)}
	for i := range r.sums {
		r.sums[i] = audit.NewSummer()
	}
	if opts.UntilSeq > 0 && (r.total == 0 || opts.UntilSeq < r.total) {
		r.total = opts.UntilSeq
	}
	var err error
	if streams != nil {
		err = streams.EachStream(ctx, r.takeStream)
	} else {
		err = src.Messages(ctx, r.take)
	}
	if errors.Is(err, errReplayDone) {
		err = nil
	}
	if err == nil {
		err = r.apply()
	}
	if err == nil && r.lastRead < opts.UntilSeq {
		err = fmt.Errorf("the history ends at seq %d, before the seq %d to replay until", r.lastRead, opts.UntilSeq)
	}
	if err != nil {
		return Result{}, fmt.Errorf("replay after seq %d: %w", r.res.LastSeq, err)
	}
	r.progress()
	if r.res.Checksum, r.res.Entries, err = dst.Checksum(); err != nil {
		return Result{}, fmt.Errorf("replay: checksum of the views: %w", err)
	}
	if named, ok := src.(interface{ Names() []string }); ok && n > 1 {
		r.res.StreamNames = named.Names()
	}
	r.setSums(n)
	r.res.Duration = time.Since(start)
	return r.res, nil
}

// replayer is one Run in progress.
type replayer struct {
	opts     Options
	dst      *projector.Store
	total    uint64
	read     uint64 // messages taken from the source
	lastRead uint64 // their last sequence
	pending  []events.Message
	stream   int // of the messages read last, pending among them
	sums     []*audit.Summer
	res      Result
}

// checkTarget refuses a store that is not fresh, or follows another number
// of streams than the n of the history, and UntilSeq on several streams.
func checkTarget(dst *projector.Store, n int, opts Options) error {
	cps := dst.Checkpoints()
	if len(cps) != n {
		return fmt.Errorf("replay: the store follows %d stream(s), the history has %d", len(cps), n)
	}
	for i, cp := range cps {
		if cp != 0 {
			return fmt.Errorf("replay: %w up to seq %d of stream %d; give it a new, empty directory", ErrStoreNotEmpty, cp, i)
		}
	}
	if n > 1 && opts.UntilSeq > 0 {
		return fmt.Errorf("replay until seq %d: %w", opts.UntilSeq, ErrUntilSeqStreams)
	}
	return nil
}

// takeStream handles one run of messages of stream, applying what is
// pending of the stream before it first.
func (r *replayer) takeStream(stream int, batch []events.Message) error {
	if stream != r.stream {
		if err := r.apply(); err != nil {
			return err
		}
		r.stream, r.lastRead = stream, 0
	}
	return r.take(batch)
}

// setSums sets the result's history sums and, of n > 1 streams, each
// stream's last applied sequence; History is then the sum of the
// partitioned log as audit.ChecksumStreams defines it (docs/audit.md).
func (r *replayer) setSums(n int) {
	if n == 1 {
		r.res.History = r.sums[0].Sum()
		return
	}
	r.res.LastSeq = 0
	r.res.LastSeqs = make([]uint64, n)
	r.res.Histories = make([]audit.Sum, n)
	for i, s := range r.sums {
		r.res.Histories[i] = s.Sum()
		r.res.LastSeqs[i] = r.res.Histories[i].UntilSeq
	}
	r.res.History = audit.Sum{Hex: audit.CombineSums(r.res.streamSums()), Events: r.res.Events}
}

// take handles one run of the source's messages.
func (r *replayer) take(batch []events.Message) error {
	for _, m := range batch {
		if m.Seq <= r.lastRead {
			return fmt.Errorf("the source delivered seq %d after seq %d; a history is in strictly increasing order", m.Seq, r.lastRead)
		}
		if r.opts.UntilSeq > 0 && m.Seq > r.opts.UntilSeq {
			return errReplayDone
		}
		r.read++
		r.lastRead = m.Seq
		if !r.keep(m) {
			r.res.Skipped++
			continue
		}
		r.pending = append(r.pending, m)
		if len(r.pending) >= r.opts.BatchSize {
			if err := r.apply(); err != nil {
				return err
			}
		}
	}
	r.progress()
	if r.opts.UntilSeq > 0 && r.lastRead >= r.opts.UntilSeq {
		return errReplayDone
	}
	return nil
}

// keep decides whether m is part of the history as of UntilTime.
func (r *replayer) keep(m events.Message) bool {
	if r.opts.UntilTime.IsZero() {
		return true
	}
	e, err := events.Decode(m.Data)
	return err == nil && !e.Time.After(r.opts.UntilTime)
}

// apply applies the pending messages in one batch.
func (r *replayer) apply() error {
	if len(r.pending) == 0 {
		return nil
	}
	if err := r.dst.ApplyStream(r.stream, r.pending); err != nil {
		return err
	}
	for _, m := range r.pending {
		r.sums[r.stream].Add(m)
	}
	r.res.Events += uint64(len(r.pending))
	r.res.LastSeq = r.pending[len(r.pending)-1].Seq
	r.pending = r.pending[:0]
	return nil
}

func (r *replayer) progress() {
	if r.opts.Progress == nil {
		return
	}
	total := r.total
	if total != 0 {
		total = max(total, r.read)
	}
	r.opts.Progress(r.read, total)
}

// ToDir opens a new projector store in dir, replays src into it with Run
// and closes it, keeping the views in dir. dir must hold no views yet.
func ToDir(ctx context.Context, src Source, dir string, logger *slog.Logger, opts Options) (Result, error) {
	n, _ := streamsOf(src)
	dst, err := projector.Open(projector.Options{Dir: dir, Logger: logger, Streams: n})
	if err != nil {
		return Result{}, err
	}
	res, err := Run(ctx, src, dst, opts)
	if cerr := dst.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return res, err
}
