package eventlog

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Errors of the event log, matched with errors.Is. Every error returned by
// this package that stems from one of these conditions wraps the sentinel
// and, where there is one, the JetStream error it came from.
var (
	// ErrConflict reports an append whose expected last subject sequence was
	// not the subject's last sequence: another writer appended first. Reload
	// the subject, decide again and retry.
	ErrConflict = errors.New("eventlog: conflict: the subject has changed since it was loaded")
	// ErrStreamMisconfigured reports an existing CROSSTALK stream whose
	// settings would let history be lost or events go elsewhere.
	ErrStreamMisconfigured = errors.New("eventlog: stream misconfigured")
	// ErrReplicationMismatch reports an existing stream whose replicas or
	// placement tags are not what Options or RejectionsOptions ask for.
	ErrReplicationMismatch = errors.New("eventlog: stream replication differs from the one asked for")
	// ErrUnavailable reports an append that JetStream did not acknowledge
	// in time or had no responder for: the stream has no leader (an
	// election, a lost quorum) or cannot be reached. The append may or may
	// not be stored; appending it again with the same message id is safe.
	ErrUnavailable = errors.New("eventlog: the stream did not acknowledge the append (no leader or no connection)")
	// ErrNotFound reports that the stream holds no message at a sequence.
	ErrNotFound = errors.New("eventlog: no message at that sequence")
	// ErrNoStream reports that OpenExisting or OpenExistingRejections found
	// no stream to open: they never create one.
	ErrNoStream = errors.New("eventlog: no such stream")
)

// JetStream API error codes that nats.go has no constant for.
const (
	// codeDuplicateInProcess: a message with the same Nats-Msg-Id is being
	// stored on a replicated stream and its sequence is not yet known.
	codeDuplicateInProcess jetstream.ErrorCode = 10158
	// codeClusterNotAvailable: JetStream has no meta leader (a lost quorum).
	codeClusterNotAvailable jetstream.ErrorCode = 10008
	// codeLastSeqNotReady: a stream leader just elected cannot check an
	// expected last subject sequence yet.
	codeLastSeqNotReady jetstream.ErrorCode = 10163
)

// leaderlessCodes are the JetStream errors that say the stream has no
// leader able to decide an append: nothing was stored, try again.
var leaderlessCodes = []jetstream.ErrorCode{codeClusterNotAvailable, codeLastSeqNotReady}

// mapError is the one place where JetStream errors become this package's
// sentinels. Errors it does not know are returned unchanged.
// mapReadError is mapError for a read (a stream's info, a message, a
// subject's history), with unanswered's rule on top.
func mapReadError(err error) error { return unanswered(mapError(err)) }

// unanswered marks a read the stream did not answer in time, as during an
// election or without a quorum, ErrUnavailable, like a transient error:
// nothing was written, so asking again is always safe. Appends do not use
// it; their timeouts are settled by the append path (failFast).
func unanswered(err error) error {
	timedOut := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)
	if timedOut && !errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w (%w)", ErrUnavailable, err)
	}
	return err
}

func mapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("%w (%w)", ErrNotFound, err)
	}
	if transient(err) {
		return fmt.Errorf("%w (%w)", ErrUnavailable, err)
	}
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return err
	}
	switch apiErr.ErrorCode {
	case jetstream.JSErrCodeStreamWrongLastSequence,
		jetstream.JSErrCodeStreamWrongLastSequenceConstant,
		codeDuplicateInProcess:
		return fmt.Errorf("%w (%w)", ErrConflict, err)
	case jetstream.JSErrCodeMessageNotFound:
		return fmt.Errorf("%w (%w)", ErrNotFound, err)
	}
	return err
}
