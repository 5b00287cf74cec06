package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/events"
)

const (
	// readPrefetch is how many messages an ordered consumer keeps in flight.
	readPrefetch = 1024
	// releaseTimeout bounds the deletion of a finished ordered consumer.
	releaseTimeout = 5 * time.Second
	// inactiveThreshold is how long the server keeps an ordered consumer
	// that nobody reads, such as one left by a crashed process.
	inactiveThreshold = time.Minute
	// resetAttempts is how many times an ordered consumer tries to recreate
	// itself after a lost heartbeat or a leader change before Read fails.
	resetAttempts = 3
)

// Read passes every message with sequence fromSeq or greater (0 means from
// the start) to fn, in stream order and in batches, then keeps following the
// messages appended later, until ctx is done.
//
// A batch holds at most maxBatch messages. A partial batch is passed as soon
// as no further message is available, so a follower that has caught up sees
// each new message at once. fn owns the batch slice; Read does not reuse it.
//
// Read returns nil when ctx is done (a normal stop: check ctx.Err() for the
// reason), the error of fn as it is when fn fails, and any other error
// wrapped. It reads with an ordered consumer, which survives server
// restarts and leader changes by recreating itself from the last delivered
// sequence (at most resetAttempts times in a row; then Read fails and the
// caller follows again), and deletes it before returning.
func (l *Log) Read(ctx context.Context, fromSeq uint64, maxBatch int, fn func([]events.Message) error) error {
	if err := l.partitioned("read"); err != nil {
		return err
	}
	if maxBatch < 1 {
		return fmt.Errorf("read from seq %d: maxBatch is %d, want at least 1", fromSeq, maxBatch)
	}
	b := &readBatch{max: maxBatch, fn: fn}
	err := l.consume(ctx, orderedConfig(fromSeq), b.add, b.peek)
	switch {
	case b.err != nil:
		return b.err
	case ctx.Err() != nil:
		return nil
	case err != nil:
		return fmt.Errorf("read from seq %d: %w", fromSeq, err)
	}
	return nil
}

// orderedConfig configures an ordered consumer that starts at seq (1 when
// seq is 0) on the given subjects, or on the whole stream when none.
func orderedConfig(seq uint64, subjects ...string) jetstream.OrderedConsumerConfig {
	return jetstream.OrderedConsumerConfig{
		FilterSubjects:    subjects,
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       max(seq, 1),
		InactiveThreshold: inactiveThreshold,
		// Left unbounded, the client retries a failed reset forever with a
		// pause growing to 10s, silently: after a leader kill on a loaded
		// machine the views stalled for a minute with nothing in the log.
		// A bounded reset fails the read instead, which the caller logs and
		// retries with its own pause (projector.Store.Run).
		MaxResetAttempts: resetAttempts,
	}
}

// consume reads the stream with an ordered consumer configured by cfg. It
// calls each with every message and the number of messages that follow it
// in the stream and have not been delivered yet, until each reports done or
// fails, or ctx is done (then it returns ctx's error). It stops and deletes
// the consumer before returning.
//
// peek, when not nil, is asked before each read how long to wait for the
// next message at most: past a positive wait, each is called with a zero
// Message (Seq 0), which means nothing more came for now.
func (l *Log) consume(ctx context.Context, cfg jetstream.OrderedConsumerConfig, each func(events.Message, uint64) (bool, error), peek func() time.Duration) error {
	cons, err := l.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return mapError(err)
	}
	// A 1s heartbeat (the client's default is 5s) notices a lost stream
	// leader in about 2s, so the views stall for that long, not ten.
	it, err := cons.Messages(jetstream.PullMaxMessages(readPrefetch), jetstream.PullHeartbeat(time.Second))
	if err != nil {
		l.release(cons, nil)
		return err
	}
	// Stopping the iterator also ends a consumer reset that is retrying
	// against an unreachable server, which NextContext alone does not.
	stop := context.AfterFunc(ctx, it.Stop)
	defer func() {
		stop()
		l.release(cons, it)
	}()
	for {
		msg, err := next(ctx, it, peek)
		if errors.Is(err, nats.ErrTimeout) {
			if done, err := each(events.Message{}, 0); done || err != nil {
				return err
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		m, pending, err := toMessage(msg)
		if err != nil {
			return err
		}
		if done, err := each(m, pending); done || err != nil {
			return err
		}
	}
}

// toMessage converts a consumed message and returns the number of messages
// pending after it.
func toMessage(msg jetstream.Msg) (events.Message, uint64, error) {
	md, err := msg.Metadata()
	if err != nil {
		return events.Message{}, 0, fmt.Errorf("message on %s: %w", msg.Subject(), err)
	}
	m := events.Message{Seq: md.Sequence.Stream, Subject: msg.Subject(), Data: msg.Data(),
		Signature: msg.Headers().Get(events.SignatureHeader)}
	return m, md.NumPending, nil
}

// release stops the iterator, if any, and deletes the consumer's current
// incarnation from the server, so that no consumer outlives its reader.
func (l *Log) release(cons jetstream.Consumer, it jetstream.MessagesContext) {
	if it != nil {
		it.Stop()
	}
	info := cons.CachedInfo()
	if info == nil || !l.js.Conn().IsConnected() {
		return // the server drops it after inactiveThreshold
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	err := l.js.DeleteConsumer(ctx, l.spec.name, info.Name)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		l.logger.Warn("eventlog: delete ordered consumer", slog.String("consumer", info.Name), slog.Any("error", err))
	}
}
