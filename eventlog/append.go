package eventlog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/events"
)

// subjectPrefix is what every subject of the stream starts with.
var subjectPrefix = strings.TrimSuffix(events.StreamSubjects, ">")

// probeLastMsgID is an expected last message id that no stream ever has; see
// duplicateOf.
const probeLastMsgID = "crosstalk-eventlog-duplicate-probe"

// Append stores data on subject if the last message on that subject has
// sequence expectedSeq (0: the subject has no message yet), with msgID as
// its Nats-Msg-Id. It returns the stream sequence of the message.
//
// If JetStream already stored a message with msgID within the duplicate
// window (Options.Duplicates), nothing is stored and Append returns that
// message's sequence with duplicate true, whatever expectedSeq is. If another
// message was appended to subject since expectedSeq, Append returns an error
// wrapping ErrConflict; on a replicated stream so does an append racing an
// in-flight one with the same msgID or on the same subject. An empty msgID
// disables the duplicate check. While ConfigProblem reports a problem with
// the stream's configuration, Append stores nothing and returns it (it
// wraps ErrStreamMisconfigured).
//
// While JetStream has no responder for the subject (no stream leader) or
// the connection is lost under a pending append, Append publishes again,
// with the same msgID, until ctx ends. When ctx ends first, or JetStream
// reports that the stream has no leader, Append returns an error wrapping
// ErrUnavailable (and ctx's error, if that ended it): the message may or
// may not be stored, and appending it again with the same msgID within
// the duplicate window is safe.
func (l *Log) Append(ctx context.Context, subject string, expectedSeq uint64, msgID string, data []byte) (seq uint64, duplicate bool, err error) {
	l = l.route(subject)
	e := Entry{Subject: subject, ExpectedSeq: expectedSeq, MsgID: msgID, Data: data}
	ctx, cancel := l.withDefaultTimeout(ctx) // as a synchronous publish does
	defer cancel()
	// Signed once: a publish again carries the same header. A retry of the
	// whole append may be signed in another group, so with another
	// header; JetStream recognises it by its msgID alone.
	r := l.appendSigned(ctx, e, l.sign(e))
	return r.Seq, r.Duplicate, r.Err
}

// appendSigned appends e, signed with header, as Append does: published
// again, with the same header, while no stream leader answers, until ctx
// ends.
func (l *Log) appendSigned(ctx context.Context, e Entry, header string) Result {
	for {
		r := l.commitAppend(ctx, e, header)
		if !errors.Is(r.Err, errRepublish) {
			return r
		}
		select {
		case <-ctx.Done():
			return Result{Err: fmt.Errorf("append to %s after seq %d: %w (%w)", e.Subject, e.ExpectedSeq, ErrUnavailable, ctx.Err())}
		case <-time.After(republishPause):
		}
	}
}

// republishPause spaces Append's publishes while no stream leader answers:
// short against an election's seconds, long against a publish.
const republishPause = 50 * time.Millisecond

// errRepublish marks an append that failed before JetStream decided
// anything (no responder, the connection lost under it), which Append
// publishes again.
var errRepublish = errors.New("eventlog: publish again")

// transient reports whether err says nothing was decided about a publish:
// no stream leader received it, its acknowledgement was lost with the
// connection, or a leader just elected cannot check it yet.
func transient(err error) bool {
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrDisconnected) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && slices.Contains(leaderlessCodes, apiErr.ErrorCode)
}

// duplicateOf reports the sequence of the message stored with msgID, if
// JetStream still remembers it.
//
// A stream with one replica checks Nats-Expected-Last-Subject-Sequence before
// its duplicate window, so the retry of an append whose first attempt was
// stored gets "wrong last sequence" instead of "duplicate". duplicateOf asks
// the window directly: it publishes again with msgID and an expected last
// message id that no stream has. JetStream checks that header after the
// duplicate window, so it either answers "duplicate" with the original
// sequence or rejects the message; it never stores it.
//
// A replicated stream checks the duplicate window first, so the probe is
// not needed there; it would also be harmful, because a replicated stream
// remembers the msgID of a proposed message even when it rejects it later.
func (l *Log) duplicateOf(ctx context.Context, subject, msgID string, data []byte) (uint64, bool) {
	info, err := l.stream.Info(ctx)
	if err != nil || info.Config.Replicas > 1 {
		return 0, false
	}
	ack, err := l.js.PublishMsg(ctx, &nats.Msg{Subject: l.spec.physical(subject), Data: data},
		jetstream.WithMsgID(msgID), jetstream.WithExpectLastMsgID(probeLastMsgID))
	if err != nil || !ack.Duplicate {
		return 0, false
	}
	return ack.Sequence, true
}
