package eventlog

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Limits of one batch direct-get request of Load. A subject with more
// messages takes more requests.
const (
	loadBatch    = 4096
	loadMaxBytes = 8 << 20
)

// Load returns every message on subject with a sequence greater than
// afterSeq, in stream order; none (and no error) when there is none.
//
// On a stream that allows direct gets (Open creates it so) Load makes one
// batch direct-get request per 4096 messages and creates no consumer. A
// direct get may be answered by any replica of a replicated stream, so on a
// cluster Load can miss the newest messages by a few milliseconds; an
// Append based on such a Load fails with ErrConflict, never silently. On a
// stream without direct gets Load reads with a short-lived ordered consumer
// and deletes it before returning. Without a deadline on ctx, Load gives up
// after the JetStream context's default timeout.
func (l *Log) Load(ctx context.Context, subject string, afterSeq uint64) ([]events.Message, error) {
	l = l.route(subject)
	ctx, cancel := l.withDefaultTimeout(ctx)
	defer cancel()
	var msgs []events.Message
	var err error
	if l.direct != nil {
		msgs, err = l.loadDirect(ctx, subject, afterSeq)
	} else {
		msgs, err = l.loadOrdered(ctx, subject, afterSeq)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s after seq %d: %w", subject, afterSeq, unanswered(err))
	}
	return msgs, nil
}

// LoadPage is Load for a subject too long to hold at once: it returns the
// first page of the messages on subject after afterSeq (up to 4096, and 8
// MiB), in stream order, and whether more follow. A stream without direct
// gets has no pages: LoadPage returns everything, more false.
func (l *Log) LoadPage(ctx context.Context, subject string, afterSeq uint64) (msgs []events.Message, more bool, err error) {
	l = l.route(subject)
	if l.direct == nil {
		msgs, err = l.Load(ctx, subject, afterSeq)
		return msgs, false, err
	}
	ctx, cancel := l.withDefaultTimeout(ctx)
	defer cancel()
	msgs, more, err = l.directBatch(ctx, subject, afterSeq+1)
	if err != nil {
		return nil, false, fmt.Errorf("load %s after seq %d: %w", subject, afterSeq, unanswered(err))
	}
	return msgs, more && len(msgs) > 0, nil
}

// loadDirect reads subject with batch direct gets until none is pending.
func (l *Log) loadDirect(ctx context.Context, subject string, afterSeq uint64) ([]events.Message, error) {
	var all []events.Message
	next := afterSeq + 1
	for {
		page, more, err := l.directBatch(ctx, subject, next)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if !more || len(page) == 0 {
			return all, nil
		}
		next = page[len(page)-1].Seq + 1
	}
}

// directBatch reads one batch of subject from seq on. It returns the
// messages and whether more are pending after them.
func (l *Log) directBatch(ctx context.Context, subject string, seq uint64) ([]events.Message, bool, error) {
	req := directRequest{Seq: seq, NextFor: subject, Batch: loadBatch, MaxBytes: loadMaxBytes}
	replies, end, err := l.direct.get(ctx, req)
	if err != nil {
		return nil, false, err
	}
	page := make([]events.Message, len(replies))
	for i, r := range replies {
		if page[i], err = directMessage(r); err != nil {
			return nil, false, err
		}
	}
	more, err := endOfBatch(end)
	return page, more, err
}

// loadOrdered reads subject with an ordered consumer, up to the last
// message on the subject when Load began.
func (l *Log) loadOrdered(ctx context.Context, subject string, afterSeq uint64) ([]events.Message, error) {
	last, err := l.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, mapError(err)
	}
	if last.Sequence <= afterSeq {
		return nil, nil
	}
	var all []events.Message
	err = l.consume(ctx, orderedConfig(afterSeq+1, subject), func(m events.Message, _ uint64) (bool, error) {
		all = append(all, m)
		return m.Seq >= last.Sequence, nil
	}, nil)
	return all, err
}
