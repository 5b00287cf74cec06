// Package audit proves what crosstalk's history is, from the outside of the
// service: it reads the CROSSTALK stream (the only source of truth) and,
// optionally, the Pebble read model, and reports what it finds without
// changing either.
//
// Two proofs are offered:
//
//   - Verify walks the whole stream in order and checks every subject's hash
//     chain (each event's prevhash is the sha256 of the previous stored body
//     on its subject, and its streamversion counts the subject's events),
//     and, given the views, that Pebble's verbatim history (hist/) holds
//     exactly the stream's messages, byte for byte, up to the views'
//     checkpoint. Any break is reported with its stream sequence.
//   - Checksum is one deterministic sha256 over the stream's messages up to
//     a sequence, in a format simple enough for an auditor to recompute
//     with other tools. Taken before a policy change and again after it, an
//     equal checksum proves the change rewrote nothing before it.
//
// Both read in batches and keep a few dozen bytes per subject (the last hash
// and version of its chain), plus one bit per stream sequence when the views
// are checked, so a log of millions of events is audited in bounded memory.
//
// The package defines the small interfaces it consumes, Log and Views;
// *eventlog.Log and *projector.Store implement them. It also holds the one
// walker of the stream, Walk, which the proofs use and which package replay
// (replays, exports, views as of a time) and package report (timelines,
// policy reports) use too: they import audit, never the other way round.
package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Log is what the audit reads of the event log. *eventlog.Log implements
// it: Read follows the stream from fromSeq in batches until ctx is done or
// fn fails, LastSeq is the sequence of the stream's last message, and Get
// reads one message.
type Log interface {
	LastSeq(ctx context.Context) (uint64, error)
	Get(ctx context.Context, seq uint64) (events.Message, error)
	Read(ctx context.Context, fromSeq uint64, maxBatch int, fn func([]events.Message) error) error
}

// Views is what Verify reads of the Pebble read model. *projector.Store
// implements it: Checkpoint is the last applied stream sequence,
// HistoryEvent looks up one hist/<subject>/<seq> entry and History scans
// every entry up to the checkpoint in (subject, seq) order.
type Views interface {
	Checkpoint() uint64
	HistoryEvent(subject string, seq uint64) (data []byte, found bool, err error)
	History(fn func(subject string, seq uint64, data []byte) error) error
}

// readBatch is how many messages the audit asks the log for at a time.
const readBatch = 1000

// stallTimeout bounds how long a walk waits for the next batch. The stream
// holds every sequence up to the last one the walk aims for (DenyDelete), so
// a long silence means a message was removed behind the broker's back, or
// the broker is unreachable; either way the audit must say so rather than
// wait forever.
var stallTimeout = 30 * time.Second

// errWalkDone stops Log.Read once the walk has passed its last sequence.
var errWalkDone = errors.New("audit: walk done")

// errStalled is the cause of a walk's context when no batch came in time.
var errStalled = errors.New("audit: stalled")

// EachMessage adapts fn, which takes one message, to Walk, which hands out
// runs of them.
func EachMessage(fn func(events.Message) error) func([]events.Message) error {
	return func(batch []events.Message) error {
		for _, m := range batch {
			if err := fn(m); err != nil {
				return err
			}
		}
		return nil
	}
}

// Walk calls fn with runs of consecutive messages of the stream from seq 1
// up to and including until, in stream order, none past until; with
// EachMessage, one message at a time. It returns fn's error, the context's
// error, or an error when the stream stops short of until or delivers
// nothing for a while although messages are due.
func Walk(ctx context.Context, log Log, until uint64, fn func([]events.Message) error) error {
	if until == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(stallTimeout, func() { cancel(errStalled) })
	defer timer.Stop()
	var reached uint64
	err := log.Read(ctx, 1, readBatch, func(batch []events.Message) error {
		timer.Stop() // the wait is for the broker, not for fn
		defer timer.Reset(stallTimeout)
		n := len(batch)
		for n > 0 && batch[n-1].Seq > until {
			n--
		}
		if n > 0 {
			if err := fn(batch[:n]); err != nil {
				return err
			}
			reached = batch[n-1].Seq
		}
		if n < len(batch) || reached >= until {
			return errWalkDone
		}
		return nil
	})
	switch {
	case errors.Is(err, errWalkDone):
		return nil
	case err != nil:
		return err
	case errors.Is(context.Cause(ctx), errStalled):
		return fmt.Errorf("the stream delivered nothing after seq %d for %s although its last sequence is %d: "+
			"messages may have been removed, or the broker is unreachable", reached, stallTimeout, until)
	case ctx.Err() != nil:
		return context.Cause(ctx)
	}
	return fmt.Errorf("the stream ended at seq %d before seq %d", reached, until)
}
