package eventlog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Entry is one append of AppendAll: the arguments of Append.
type Entry struct {
	Subject     string
	ExpectedSeq uint64
	MsgID       string
	Data        []byte
}

// Result is what Append would have returned for one Entry.
type Result struct {
	Seq       uint64
	Duplicate bool
	Err       error
}

// AppendAll appends every entry as Append would (same checks, same
// duplicate handling, same errors), but publishes them all before waiting
// for any acknowledgement, so a run of n appends costs about one round trip
// to JetStream rather than n. Entries must be on distinct subjects (an
// entry's expected sequence cannot account for another's); the stream
// order among them is not defined. results[i] is the outcome of entries[i].
// The policy closer uses it to close thousands of conversations at once.
func (l *Log) AppendAll(ctx context.Context, entries []Entry) []Result {
	results := make([]Result, len(entries))
	futures := make([]jetstream.PubAckFuture, len(entries))
	headers := l.signAll(entries)
	if l.grouped() {
		return l.appendAllGrouped(ctx, entries, headers)
	}
	for i, e := range entries {
		futures[i], results[i].Err = l.route(e.Subject).publishAsync(e, headers[i])
	}
	for i, f := range futures {
		if f != nil {
			results[i] = l.route(entries[i].Subject).await(ctx, entries[i], f)
		}
	}
	return results
}

// await waits for the acknowledgement of e's publish, or ctx. Publishing
// asynchronously and waiting, rather than a synchronous publish, lets
// concurrent appends (one per conversation being commanded) share the
// connection's flushes and one reply subscription instead of each making a
// request with its own timer: a fifth less CPU per append with 512
// appending goroutines (BenchmarkAppendParallel). An append abandoned at
// ctx's end may still be stored, as with a synchronous publish that times
// out; a retry with the same Nats-Msg-Id is safe.
func (l *Log) await(ctx context.Context, e Entry, f jetstream.PubAckFuture) Result {
	select {
	case ack := <-f.Ok():
		return Result{Seq: ack.Sequence, Duplicate: ack.Duplicate}
	case err := <-f.Err():
		if transient(err) {
			return Result{Err: fmt.Errorf("append to %s after seq %d: %w: %w (%w)", e.Subject, e.ExpectedSeq, errRepublish, ErrUnavailable, err)}
		}
		return l.failed(ctx, e, mapError(err))
	case <-ctx.Done():
		return Result{Err: fmt.Errorf("append to %s after seq %d: %w (%w)", e.Subject, e.ExpectedSeq, ErrUnavailable, ctx.Err())}
	}
}

// publishAsync publishes e with header as its signature ("" when the log
// does not sign).
func (l *Log) publishAsync(e Entry, header string) (jetstream.PubAckFuture, error) {
	if err := l.check(e); err != nil {
		return nil, err
	}
	f, err := l.js.PublishMsgAsync(message(e, l.spec.physical(e.Subject), header))
	if err != nil {
		return nil, fmt.Errorf("append to %s after seq %d: %w", e.Subject, e.ExpectedSeq, mapError(err))
	}
	return f, nil
}

// check refuses e before it is published: a subject outside the log, or
// a stream ConfigProblem finds wrong.
func (l *Log) check(e Entry) error {
	if !strings.HasPrefix(e.Subject, subjectPrefix) {
		return fmt.Errorf("append to %q: subject is not under %s", e.Subject, subjectPrefix+">")
	}
	if err := l.ConfigProblem(); err != nil {
		return fmt.Errorf("append to %s refused: %w", e.Subject, err)
	}
	return nil
}

// message is the NATS message of e on subject (the physical one), with
// header as its signature unless it is "", its expected last subject
// sequence and its msgID. The headers are set here, in a map of their
// size, rather than by jetstream's publish options: each option is a
// closure and grows the map, a tenth of the append's allocations.
func message(e Entry, subject, header string) *nats.Msg {
	h := make(nats.Header, 3)
	h[jetstream.ExpectedLastSubjSeqHeader] = []string{strconv.FormatUint(e.ExpectedSeq, 10)}
	if e.MsgID != "" {
		h[jetstream.MsgIDHeader] = []string{e.MsgID}
	}
	if header != "" {
		h[events.SignatureHeader] = []string{header}
	}
	return &nats.Msg{Subject: subject, Data: e.Data, Header: h}
}

// sign returns the signature of e, signed in a group with the concurrent
// appends; "" when the log does not sign.
func (l *Log) sign(e Entry) string {
	if l.signer == nil {
		return ""
	}
	return l.signer.sign(e.Subject, e.Data)
}

// signAll returns the signatures of entries, signed as one batch: a run of
// AppendAll is a group of its own and waits for no other append. The
// headers are "" when the log does not sign.
func (l *Log) signAll(entries []Entry) []string {
	if l.signer == nil {
		return make([]string, len(entries))
	}
	leaves := make([]events.Leaf, len(entries))
	for i, e := range entries {
		leaves[i] = events.Leaf{Subject: e.Subject, Data: e.Data}
	}
	return l.signer.signer.SignBatch(leaves)
}

// failed settles a refused entry as Append does: a conflict may be the
// retry of an append that was stored, which the duplicate window knows.
func (l *Log) failed(ctx context.Context, e Entry, err error) Result {
	if errors.Is(err, ErrConflict) && e.MsgID != "" {
		if seq, ok := l.duplicateOf(ctx, e.Subject, e.MsgID, e.Data); ok {
			return Result{Seq: seq, Duplicate: true}
		}
	}
	return Result{Err: fmt.Errorf("append to %s after seq %d: %w", e.Subject, e.ExpectedSeq, err)}
}
