// Package eventlog stores crosstalk events in the JetStream stream CROSSTALK,
// the only source of truth of crosstalk.
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
}

// Defaults of Options.
const (
	DefaultReplicas   = 1
	DefaultDuplicates = 2 * time.Minute
)

// EnsureDefaults fills every zero or negative field with its default;
// Replicas stays 0, which Open reads as "DefaultReplicas for a new stream,
// whatever an existing one has".
func (o *Options) EnsureDefaults() {
	if o.Duplicates <= 0 {
		o.Duplicates = DefaultDuplicates
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Log is the CROSSTALK stream. It is safe for concurrent use.
type Log struct {
	logger *slog.Logger
	signer *groupSigner // nil: appends are not signed
	js     jetstream.JetStream
	stream jetstream.Stream
	// direct reads subjects for Load; nil when the stream does not allow
	// direct gets.
	direct *directGetter
	// config is what the last CheckConfig found wrong; see watch.go.
	config configWatch
}

// Open returns the Log on the stream CROSSTALK, creating the stream with
// opts if it does not exist. An existing stream must capture
// crosstalk.events.>, use file storage, deny deletes and purges, and keep
// every message (limits retention, no age, count or size limits); otherwise
// Open returns an error wrapping ErrStreamMisconfigured that names each
// wrong setting and how to fix it. It must also have the replicas and
// placement tags opts ask for, if any; otherwise Open returns an error
// wrapping ErrReplicationMismatch that names each difference.
func Open(ctx context.Context, js jetstream.JetStream, opts Options) (*Log, error) {
	opts.EnsureDefaults()
	stream, err := ensureStream(ctx, js, streamConfig(opts), opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", events.StreamName, err)
	}
	if err := opts.replication().check(stream.CachedInfo().Config); err != nil {
		return nil, err
	}
	return newLog(js, stream, opts)
}

// replication is what opts ask of the stream's copies.
func (o Options) replication() replication {
	return replication{replicas: o.Replicas, tags: o.PlacementTags}
}

// OpenExisting is Open for readers: it opens the stream CROSSTALK only if
// it exists, and returns an error wrapping ErrNoStream if not. It sends no
// request that creates or updates a stream, so it works under credentials
// that may only read (the auditor's: stream info, direct gets, ordered
// consumers).
func OpenExisting(ctx context.Context, js jetstream.JetStream, opts Options) (*Log, error) {
	opts.EnsureDefaults()
	stream, err := existingStream(ctx, js, events.StreamName)
	if err != nil {
		return nil, err
	}
	return newLog(js, stream, opts)
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

// newLog checks an opened stream's settings and returns its Log.
func newLog(js jetstream.JetStream, stream jetstream.Stream, opts Options) (*Log, error) {
	info := stream.CachedInfo()
	if err := checkStream(info.Config); err != nil {
		return nil, err
	}
	l := &Log{logger: opts.Logger, js: js, stream: stream}
	if opts.Signer != nil {
		l.signer = &groupSigner{signer: opts.Signer}
	}
	if info.Config.AllowDirect {
		l.direct = newDirectGetter(js, events.StreamName)
	}
	return l, nil
}

// Stream returns the underlying JetStream stream, for inspection and tests.
func (l *Log) Stream() jetstream.Stream {
	return l.stream
}

// Info returns the current configuration and state of the stream. It
// asks again every infoAttempt until ctx is done (infoTimeout when ctx has
// no deadline).
func (l *Log) Info(ctx context.Context) (*jetstream.StreamInfo, error) {
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
			return nil, fmt.Errorf("stream %s info: %w", events.StreamName, mapReadError(err))
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
