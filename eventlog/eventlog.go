// Package eventlog stores crosstalk events in the JetStream stream CROSSTALK,
// the only source of truth of crosstalk, or, partitioned (Options.Partitions),
// in the streams CROSSTALK_P0 … CROSSTALK_P{N-1} and CROSSTALK_POLICY
// (partition.go).
//
// Open creates the stream, or checks an existing one, so that history cannot
// be removed through the broker (DenyDelete, DenyPurge, file storage, no
// limits that drop messages). A Log then offers what the other packages need
// of the stream:
//
//   - Append writes one event to a conversation, account or policy subject
//     with optimistic concurrency (Nats-Expected-Last-Subject-Sequence) and
//     idempotency (Nats-Msg-Id, the command id), signed with
//     Options.Signer (events.SignatureHeader) when there is one;
//   - Load reads one subject to rebuild an aggregate;
//   - Get and LastSeq look at single positions of the stream;
//   - Read follows the whole stream in order, in batches, for the projector.
//
// JetStream errors are mapped to this package's sentinels (ErrConflict,
// ErrNotFound, ErrStreamMisconfigured) in one place, so that callers match
// them with errors.Is and never see JetStream error codes.
package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Options configure the stream that Open creates. They do not change an
// existing stream: Open only checks the settings that protect history.
//
// Durability of a single server is a server setting, not a stream one: the
// file store syncs to disk every two minutes by default, or on every write
// with server.Options.SyncAlways (sync_interval: always in a config file).
// Run with SyncAlways, or with Replicas 3 on a cluster, when an acknowledged
// event must survive the loss of a machine.
type Options struct {
	// Replicas is the number of copies of the stream in a JetStream
	// cluster: 1, the only valid value on a single server, or 3 on a
	// cluster. 0 creates the stream with DefaultReplicas and accepts an
	// existing stream's; a positive value creates it with that many and
	// requires an existing stream to have exactly that many (Open returns
	// ErrReplicationMismatch otherwise: crosstalk never rescales a stream).
	Replicas int
	// PlacementTags, when given, place a new stream on the servers that
	// carry every tag (server_tags in their configuration) and require an
	// existing stream to be placed by the same tags. Default: none, and an
	// existing stream's placement is accepted.
	PlacementTags []string
	// Duplicates is how long JetStream remembers a Nats-Msg-Id (a command
	// id) to drop a retried append. Default 2 minutes.
	Duplicates time.Duration
	// Logger receives the log's few messages (stream created, a consumer
	// that could not be deleted). Default: slog.Default().
	Logger *slog.Logger
	// Signer signs every append: the signature goes in the message's
	// events.SignatureHeader, so that an event published into the stream
	// by anyone else is told apart by audit verify. Concurrent appends,
	// and each run of AppendAll, are signed as one batch
	// (events.Signer.SignBatch). nil appends unsigned (readers, tests).
	Signer *events.Signer
	// Partitions is the number of streams conversation and account
	// subjects are spread over (partition.go), fixed when the streams are
	// created: 1 is the single stream CROSSTALK; N > 1 creates
	// CROSSTALK_P0 … CROSSTALK_P{N-1} and CROSSTALK_POLICY. An existing
	// log must have exactly the number asked for (Open returns an error
	// wrapping ErrPartitionsMismatch otherwise). Default 0: the existing
	// log's number, else 1.
	Partitions int
	// GroupCommit publishes the appends of concurrent callers on one
	// stream together, as one JetStream atomic batch (groupcommit.go),
	// for a server that runs with SyncAlways: nats-server fsyncs such a
	// batch once, before it acknowledges it, where it fsyncs every single
	// publish. Open creates the streams with allow_atomic, or turns it on
	// in existing ones (nats-server 2.12 or later). Each append's result
	// still arrives only once JetStream acknowledged its event; a batch
	// refused as a whole (a conflict or duplicate among its entries) is
	// published again one entry at a time. Default false: every append is
	// published alone.
	GroupCommit bool
}

// Defaults of Options.
const (
	DefaultReplicas   = 1
	DefaultDuplicates = 2 * time.Minute
)

// EnsureDefaults fills every zero or negative field with its default;
// Replicas stays 0, which Open reads as "DefaultReplicas for a new stream,
// whatever an existing one has", and so does Partitions ("the existing
// log's, else 1").
func (o *Options) EnsureDefaults() {
	if o.Duplicates <= 0 {
		o.Duplicates = DefaultDuplicates
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Log is the event log: the stream CROSSTALK, or the streams of a
// partitioned log (Options.Partitions), to which it routes each append and
// subject read by subject. It is safe for concurrent use.
type Log struct {
	logger *slog.Logger
	signer *groupSigner // nil: appends are not signed
	js     jetstream.JetStream
	spec   streamSpec
	// parts are the Logs of a partitioned log's streams, in layout order;
	// nil for a Log of one stream.
	parts  []*Log
	stream jetstream.Stream
	// direct reads subjects for Load; nil when the stream does not allow
	// direct gets.
	direct *directGetter
	// config is what the last CheckConfig found wrong; see watch.go.
	config configWatch
	// group commits the appends to the stream in batches
	// (Options.GroupCommit); nil publishes each alone.
	group *committer
	// async holds the appends of AppendAsync in flight; one for every
	// stream of a partitioned log. nil: AppendAsync waits on a goroutine.
	async *asyncAppends
}

// Open returns the Log on the stream CROSSTALK, or on the streams of a
// partitioned log (Options.Partitions), creating the streams with opts if
// they do not exist. An existing stream must capture its subjects
// (crosstalk.events.>, or its partition's with the transform back to
// them), use file storage, deny deletes and purges, and keep every message
// (limits retention, no age, count or size limits); otherwise Open returns
// an error wrapping ErrStreamMisconfigured that names each wrong setting
// and how to fix it. It must also have the replicas and placement tags
// opts ask for, if any; otherwise Open returns an error wrapping
// ErrReplicationMismatch that names each difference. It refuses options
// Options.Validate refuses.
func Open(ctx context.Context, js jetstream.JetStream, opts Options) (*Log, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.EnsureDefaults()
	existing, err := existingPartitions(ctx, js)
	if err != nil {
		return nil, err
	}
	n, err := partitionsFor(opts.Partitions, existing)
	if err != nil {
		return nil, err
	}
	return openLayout(opts, n, func(s streamSpec) (jetstream.Stream, error) {
		stream, err := ensureStream(ctx, js, streamConfig(opts, s), opts.Logger)
		if err == nil && opts.GroupCommit {
			stream, err = allowAtomic(ctx, js, stream)
		}
		if err != nil {
			return nil, fmt.Errorf("open stream %s: %w", s.name, err)
		}
		return stream, opts.replication().check(stream.CachedInfo().Config)
	}, js)
}

// openLayout opens each stream of a log of n partitions with open and
// returns the Log over them.
func openLayout(opts Options, n int, open func(streamSpec) (jetstream.Stream, error), js jetstream.JetStream) (*Log, error) {
	return openLayoutAs(opts, n, open, js, false)
}

// openLayoutAs is openLayout; a reader (readOnly) takes a misconfigured
// stream as it is, its problem kept for ConfigProblem, so that an audit
// reports it and still reads the history that is there.
func openLayoutAs(opts Options, n int, open func(streamSpec) (jetstream.Stream, error), js jetstream.JetStream, readOnly bool) (*Log, error) {
	var signer *groupSigner
	if opts.Signer != nil {
		signer = &groupSigner{signer: opts.Signer}
	}
	var async *asyncAppends
	if js != nil && js.Conn() != nil {
		async = newAsyncAppends(js.Conn(), opts.Signer)
	}
	var parts []*Log
	for _, s := range layout(n) {
		stream, err := open(s)
		if err != nil {
			return nil, err
		}
		l, err := newLog(js, stream, s, opts.Logger, signer)
		if readOnly && errors.Is(err, ErrStreamMisconfigured) {
			l.config.problem.Store(&err)
		} else if err != nil {
			return nil, err
		}
		if opts.GroupCommit {
			l.group = &committer{log: l}
		}
		l.async = async
		parts = append(parts, l)
	}
	if n <= 1 {
		return parts[0], nil
	}
	return &Log{logger: opts.Logger, signer: signer, js: js, spec: streamSpec{partitions: n}, parts: parts, async: async}, nil
}

// replication is what opts ask of the stream's copies.
func (o Options) replication() replication {
	return replication{replicas: o.Replicas, tags: o.PlacementTags}
}

// OpenExisting is Open for readers: it opens the stream CROSSTALK, or the
// streams of a partitioned log, only if they exist, and returns an error
// wrapping ErrNoStream if not. It sends no request that creates or updates
// a stream, so it works under credentials that may only read (the
// auditor's: stream info, direct gets, ordered consumers).
func OpenExisting(ctx context.Context, js jetstream.JetStream, opts Options) (*Log, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.EnsureDefaults()
	n, err := existingPartitions(ctx, js)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: %s (nor %s)", ErrNoStream, events.StreamName, PartitionStreamName(0))
	}
	return openLayoutAs(opts, n, func(s streamSpec) (jetstream.Stream, error) {
		return existingStream(ctx, js, s.name)
	}, js, true)
}

// existingStream looks up the stream name, which must exist.
func existingStream(ctx context.Context, js jetstream.JetStream, name string) (jetstream.Stream, error) {
	stream, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("%w: %s (%w)", ErrNoStream, name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("look up stream %s: %w", name, err)
	}
	return stream, nil
}

// newLog returns an opened stream's Log, and checkStream's verdict on its
// settings: the caller refuses a misconfigured stream, or (a reader) keeps
// the problem.
func newLog(js jetstream.JetStream, stream jetstream.Stream, spec streamSpec, logger *slog.Logger, signer *groupSigner) (*Log, error) {
	info := stream.CachedInfo()
	l := &Log{logger: logger, js: js, stream: stream, spec: spec, signer: signer}
	if info.Config.AllowDirect {
		l.direct = newDirectGetter(js, spec.name)
	}
	return l, checkStream(info.Config, spec)
}

// Partitions returns the number of partitions: 1 for the single stream.
func (l *Log) Partitions() int { return max(l.spec.partitions, 1) }

// Streams returns the Log of each stream, in the fixed order P0 …
// P{N-1}, POLICY of a partitioned log; the Log itself when it has one
// stream. The positions (sequences) of each are its own.
func (l *Log) Streams() []*Log {
	if l.parts == nil {
		return []*Log{l}
	}
	return l.parts
}

// Name returns the stream's name; "" for a partitioned Log.
func (l *Log) Name() string { return l.spec.name }

// route returns the Log of the stream that holds subject.
func (l *Log) route(subject string) *Log {
	switch {
	case l.parts == nil:
		return l
	case subject == events.PolicySubject:
		return l.parts[len(l.parts)-1]
	}
	return l.parts[PartitionOf(subject, l.spec.partitions)]
}

// StreamOf returns the Log of the stream that holds subject.
func (l *Log) StreamOf(subject string) *Log { return l.route(subject) }

// partitioned returns an error wrapping ErrPartitioned, naming what asked
// for a whole-log position, on a partitioned Log; nil on one stream.
func (l *Log) partitioned(what string) error {
	if l.parts == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, ErrPartitioned)
}

// Stream returns the underlying JetStream stream, for inspection and
// tests; nil for a partitioned Log (see Streams).
func (l *Log) Stream() jetstream.Stream {
	return l.stream
}

// Info returns the current configuration and state of the stream. It
// asks again every infoAttempt until ctx is done (infoTimeout when ctx has
// no deadline).
func (l *Log) Info(ctx context.Context) (*jetstream.StreamInfo, error) {
	if err := l.partitioned("stream info"); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, infoTimeout)
		defer cancel()
	}
	for {
		attempt, cancel := context.WithTimeout(ctx, infoAttempt)
		info, err := l.stream.Info(attempt)
		cancel()
		if err == nil {
			return info, nil
		}
		if ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("stream %s info: %w", l.spec.name, mapReadError(err))
		}
	}
}

// infoAttempt bounds one stream info request. While the stream's replica
// group has no leader no server answers one, and the leader elected a
// moment later does not answer a request sent before it won
// (docs/reliability.md, Findings): asked once, a status or a lag read
// during an election of a few milliseconds waited its caller's whole
// deadline; asked again, it is answered by the new leader.
const infoAttempt = time.Second

// infoTimeout bounds Info for a caller without a deadline, as the
// JetStream client's default API timeout does.
const infoTimeout = 5 * time.Second

// LastSeq returns the sequence of the last message in the stream, 0 when
// the stream is empty.
func (l *Log) LastSeq(ctx context.Context) (uint64, error) {
	info, err := l.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

// Get returns the message at stream sequence seq, or an error wrapping
// ErrNotFound if there is none. Like Load, it reads with a direct get when
// the stream allows it, so on a cluster a message appended a moment ago may
// not be found yet.
func (l *Log) Get(ctx context.Context, seq uint64) (events.Message, error) {
	if err := l.partitioned("get seq"); err != nil {
		return events.Message{}, err
	}
	if seq == 0 {
		return events.Message{}, fmt.Errorf("get seq 0: %w", ErrNotFound)
	}
	raw, err := l.stream.GetMsg(ctx, seq)
	if err != nil {
		return events.Message{}, fmt.Errorf("get seq %d: %w", seq, mapReadError(err))
	}
	return events.Message{Seq: raw.Sequence, Subject: raw.Subject, Data: raw.Data,
		Signature: raw.Header.Get(events.SignatureHeader)}, nil
}

// withDefaultTimeout bounds ctx by the JetStream context's default API
// timeout when ctx has no deadline, as the jetstream package does for its
// own requests.
func (l *Log) withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, l.js.Options().DefaultTimeout)
}
