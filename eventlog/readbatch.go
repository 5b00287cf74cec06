package eventlog

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/events"
)

// A reader that is slower than the log's appends must get them in larger
// batches, or every fixed cost of a batch (a Pebble commit, the feeds of
// an account: docs/reliability.md, "Fan-out") is paid once per event and
// it never catches up. The count of messages pending that JetStream puts
// in each message's metadata does not tell: it was taken when the server
// delivered the message, ahead of the reader by up to readPrefetch, and is
// 0 for nearly every message while appends and deliveries keep pace with
// each other. So after a batch that took at least slowBatch, Read goes on
// taking what the consumer has already received (waiting at most
// readLinger for each) before it passes the batch, for at most
// lingerBudget.
const (
	slowBatch    = time.Millisecond
	readLinger   = 200 * time.Microsecond
	lingerBudget = 50 * time.Millisecond
)

// readBatch is the batching of Read: fn gets at most max messages at a
// time; err is fn's first error.
type readBatch struct {
	max     int
	fn      func([]events.Message) error
	err     error
	batch   []events.Message
	started time.Time // when the batch got its first message
	slow    bool      // the last fn call took at least slowBatch
	// waiting says the batch holds back only for lingering: nothing was
	// pending after its last message. Only then does the next read wait
	// with a deadline; while messages are pending it blocks as before, at
	// no cost per message.
	waiting bool
}

// add is consume's each: it passes the batch when it is full, when no
// message is pending after m (unless the reader is slow and still within
// lingerBudget), or when m is zero (peek waited in vain).
func (b *readBatch) add(m events.Message, pending uint64) (bool, error) {
	if m.Seq != 0 {
		if len(b.batch) == 0 {
			b.started = time.Now()
		}
		b.batch = append(b.batch, m)
		b.waiting = pending == 0 && b.lingers()
		if len(b.batch) < b.max && (pending > 0 || b.waiting) {
			return false, nil
		}
	}
	if len(b.batch) == 0 {
		return false, nil
	}
	start := time.Now()
	b.err = b.fn(b.batch)
	b.batch, b.waiting = nil, false
	b.slow = time.Since(start) >= slowBatch
	return b.err != nil, nil
}

// lingers reports whether the batch waits for more.
func (b *readBatch) lingers() bool { return b.slow && time.Since(b.started) < lingerBudget }

// peek is consume's peek: a short wait while the batch lingers.
func (b *readBatch) peek() time.Duration {
	if b.waiting && len(b.batch) > 0 && b.lingers() {
		return readLinger
	}
	return 0
}

// next reads the consumer's next message, waiting at most peek() when it
// is positive (nats.ErrTimeout past it), else until ctx is done.
func next(ctx context.Context, it jetstream.MessagesContext, peek func() time.Duration) (jetstream.Msg, error) {
	if peek != nil {
		if wait := peek(); wait > 0 {
			return it.Next(jetstream.NextMaxWait(wait))
		}
	}
	return it.Next(jetstream.NextContext(ctx))
}
