package replay

import (
	"context"
	"errors"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
)

// A partitioned log keeps its history in several streams (CROSSTALK_P0 …
// CROSSTALK_P{N-1}, CROSSTALK_POLICY), each with sequences of its own and no
// order between them. A replay of it reads the streams one after the
// other, in the log's stream order, each from its seq 1 in its own order,
// and applies each to the store's checkpoint of that stream
// (projector.Store.ApplyStream). Every subject lives in one stream, so each
// subject's events are applied in their order, which is the order the
// views depend on; the views are the same whatever order the streams are
// applied in, as the live projector applies them as they arrive.

// StreamsSource is a Source of several streams. Run reads it with
// EachStream rather than Messages.
type StreamsSource interface {
	Source
	// Streams is how many streams EachStream reads.
	Streams() int
	// EachStream calls fn with runs of messages of each stream in turn,
	// stream 0 first, each stream in strictly increasing sequence order
	// from its start to its end, and returns nil there; errors as
	// Messages.
	EachStream(ctx context.Context, fn func(stream int, batch []events.Message) error) error
}

// errSeveralStreams refuses Messages on a source of several streams,
// whose sequences are not one order.
var errSeveralStreams = errors.New("replay: the history has several streams; read it with EachStream")

// ErrUntilSeqStreams refuses Options.UntilSeq on a history of several
// streams: a sequence is a position in one stream only.
var ErrUntilSeqStreams = errors.New("a stream sequence bounds a history of one stream; a partitioned log has several: bound it by time")

// FromStreams returns the history of each of logs, the streams of a
// partitioned log in its order (eventlog.Log.Streams), as it stands now:
// each up to the last sequence it has when FromStreams is called. With one
// log it is FromLog.
func FromStreams(ctx context.Context, logs []audit.Log) (*LogSource, error) {
	if len(logs) == 0 {
		return nil, errors.New("replay source: no stream")
	}
	s := &LogSource{logs: logs, lasts: make([]uint64, len(logs))}
	for i, log := range logs {
		last, err := log.LastSeq(ctx)
		if err != nil {
			return nil, fmt.Errorf("replay source: last sequence of stream %s: %w", streamName(log, i), err)
		}
		s.lasts[i] = last
		s.last += last
	}
	return s, nil
}

// Streams is how many streams the source reads.
func (s *LogSource) Streams() int { return len(s.logs) }

// Lasts is the last sequence of each stream when the source was made.
func (s *LogSource) Lasts() []uint64 { return append([]uint64(nil), s.lasts...) }

// EachStream reads each stream from seq 1 to its last sequence, in order.
func (s *LogSource) EachStream(ctx context.Context, fn func(stream int, batch []events.Message) error) error {
	for i, log := range s.logs {
		err := audit.Walk(ctx, log, s.lasts[i], func(batch []events.Message) error { return fn(i, batch) })
		if err != nil {
			return err
		}
	}
	return nil
}

// Names is the name of each stream of the source, as eventlog.Log.Name
// gives it, "stream <i>" for a log without one.
func (s *LogSource) Names() []string {
	names := make([]string, len(s.logs))
	for i, log := range s.logs {
		names[i] = streamName(log, i)
	}
	return names
}

// streamName is log's stream name when it has one.
func streamName(log audit.Log, i int) string {
	if n, ok := log.(interface{ Name() string }); ok && n.Name() != "" {
		return n.Name()
	}
	return fmt.Sprintf("stream %d", i)
}

// streamsOf is the number of streams of src, and src as a StreamsSource
// when it has several.
func streamsOf(src Source) (int, StreamsSource) {
	if ss, ok := src.(StreamsSource); ok && ss.Streams() > 1 {
		return ss.Streams(), ss
	}
	return 1, nil
}
