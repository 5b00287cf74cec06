package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/events"
)

// A partitioned log (serve --partitions N, N > 1) keeps its messages in
// N+1 streams, CROSSTALK_P0 … CROSSTALK_P{N-1} and CROSSTALK_POLICY, each
// numbered from 1 on its own. No subject is in two streams, so every proof
// of a subject's chain holds within one stream: the audit walks each
// stream as it walks the single one, with its own sequences, and reports
// per stream. A log of one stream is audited exactly as before.

// Streams is a log of several streams. *eventlog.Log implements it: a log
// of one stream (StreamNames of length 1) is audited as a Log.
type Streams interface {
	// StreamNames names the streams, in their fixed order.
	StreamNames() []string
	// StreamIndexOf is the index of the stream that holds subject.
	StreamIndexOf(subject string) int
	// LastSeqs is each stream's last sequence, in their order.
	LastSeqs(ctx context.Context) ([]uint64, error)
	// ReadStream is Log.Read on one stream.
	ReadStream(ctx context.Context, stream int, fromSeq uint64, maxBatch int, fn func([]events.Message) error) error
}

// partitions returns log as Streams when it holds several streams.
func partitions(log Log) (Streams, bool) {
	s, ok := log.(Streams)
	if !ok || len(s.StreamNames()) < 2 {
		return nil, false
	}
	return s, true
}

// Stream is one stream of a partitioned log as a Log of its own, its last
// sequence fixed when it was taken (StreamsOf).
type Stream struct {
	// Name is the stream's name, e.g. CROSSTALK_P2.
	Name  string
	log   Streams
	index int
	last  uint64
}

// StreamsOf returns the streams of log, each as a Log, in their order: the
// log itself when it is one stream (its Name is events.StreamName).
func StreamsOf(ctx context.Context, log Log) ([]Log, []string, error) {
	s, ok := partitions(log)
	if !ok {
		return []Log{log}, []string{events.StreamName}, nil
	}
	lasts, err := s.LastSeqs(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("last sequences: %w", err)
	}
	names := s.StreamNames()
	logs := make([]Log, len(names))
	for i, name := range names {
		logs[i] = &Stream{Name: name, log: s, index: i, last: lasts[i]}
	}
	return logs, names, nil
}

// LastSeq is the stream's last sequence when StreamsOf took it.
func (s *Stream) LastSeq(context.Context) (uint64, error) { return s.last, nil }

// Read follows the stream from fromSeq (Log.Read).
func (s *Stream) Read(ctx context.Context, fromSeq uint64, maxBatch int, fn func([]events.Message) error) error {
	return s.log.ReadStream(ctx, s.index, fromSeq, maxBatch, fn)
}

// Get reads the stream's message at seq: the audit asks for single
// messages only of a tampered store.
func (s *Stream) Get(ctx context.Context, seq uint64) (events.Message, error) {
	if seq == 0 || seq > s.last {
		return events.Message{}, fmt.Errorf("stream %s has no message at seq %d: it ends at seq %d", s.Name, seq, s.last)
	}
	ctx, cancel := context.WithTimeout(ctx, stallTimeout)
	defer cancel()
	var got events.Message
	err := s.Read(ctx, seq, 1, func(batch []events.Message) error {
		got = batch[0]
		return errGot
	})
	switch {
	case !errors.Is(err, errGot):
		return events.Message{}, fmt.Errorf("stream %s, seq %d: %w", s.Name, seq, err)
	case got.Seq != seq:
		return events.Message{}, fmt.Errorf("stream %s has no message at seq %d", s.Name, seq)
	}
	return got, nil
}

// errGot stops the walk of Get.
var errGot = errors.New("audit: got the message")

// WalkAll calls fn with every message of log, stream after stream in their
// order (Log.Streams: P0 … P{N-1}, POLICY), each from seq 1 to its last
// sequence when WalkAll starts; on one stream, that stream in order. Within
// a stream, and so on every subject, messages come in order; a message's Seq
// is its own stream's.
func WalkAll(ctx context.Context, log Log, fn func([]events.Message) error) error {
	logs, names, err := StreamsOf(ctx, log)
	if err != nil {
		return err
	}
	for i, l := range logs {
		last, err := l.LastSeq(ctx)
		if err != nil {
			return fmt.Errorf("last sequence: %w", err)
		}
		if err := Walk(ctx, l, last, fn); err != nil {
			if len(logs) > 1 {
				err = fmt.Errorf("stream %s: %w", names[i], err)
			}
			return err
		}
	}
	return nil
}
