package replay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
)

// The export of a partitioned log (ExportStreams) starts with one header
// line naming its streams in their order with the last sequence exported
// of each,
//
//	{"streams":[{"name":"CROSSTALK_P0","last_seq":12},…,{"name":"CROSSTALK_POLICY","last_seq":2}]}
//
// and then holds the lines of each stream in that order, each stream's from
// its seq 1 in its own order, every line with a first member "stream", the
// name of its stream:
//
//	{"stream":"CROSSTALK_P0","seq":1,"subject":"crosstalk.events.…","event":{…}}
//
// The header is needed because the lines alone cannot say how many streams
// the log has (a stream may hold no event), and the views follow every
// stream (a checkpoint each), so a replay must know them all to rebuild
// the live views; the last sequences let the reader prove that no stream
// was cut short. The export of one stream has neither header nor "stream".

// exportHeader is the first line of the export of several streams.
type exportHeader struct {
	Streams []headerStream `json:"streams"`
}

// headerStream is one stream in an exportHeader.
type headerStream struct {
	Name    string `json:"name"`
	LastSeq uint64 `json:"last_seq"`
}

// headerPrefix is how the header line starts; no event line does.
var headerPrefix = []byte(`{"streams":`)

// exportStreams writes the export of several streams, each up to its last
// sequence now, and returns how many messages it wrote (the header aside).
func exportStreams(ctx context.Context, logs []audit.Log, names []string, w io.Writer) (n uint64, err error) {
	head := exportHeader{Streams: make([]headerStream, len(logs))}
	for i, l := range logs {
		if head.Streams[i].LastSeq, err = l.LastSeq(ctx); err != nil {
			return 0, fmt.Errorf("export: last sequence of %s: %w", names[i], err)
		}
		head.Streams[i].Name = names[i]
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	line, _ := json.Marshal(head) // names and numbers always encode
	if _, err := bw.Write(append(line, '\n')); err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	for i, l := range logs {
		err = audit.Walk(ctx, l, head.Streams[i].LastSeq, audit.EachMessage(func(m events.Message) error {
			line = appendLine(line[:0], names[i], m)
			if _, err := bw.Write(line); err != nil {
				return fmt.Errorf("write seq %d: %w", m.Seq, err)
			}
			n++
			return nil
		}))
		if err != nil {
			return n, fmt.Errorf("export stream %s: %w", names[i], err)
		}
	}
	return n, bw.Flush()
}

// readHeader reads the first line once: the header of an export of several
// streams, or else a line that next reads first.
func (j *JSONL) readHeader() error {
	if j.headerRead {
		return j.headerErr
	}
	j.headerRead = true
	text, err := j.r.ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		j.headerErr = fmt.Errorf("read line 1: %w", err)
		return j.headerErr
	}
	if !bytes.HasPrefix(text, headerPrefix) {
		if len(text) > 0 {
			j.first = text
		}
		return nil
	}
	j.line++
	j.headerErr = j.parseHeader(text)
	return j.headerErr
}

// parseHeader checks the header line and keeps its streams.
func (j *JSONL) parseHeader(text []byte) error {
	var h exportHeader
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil || dec.More() {
		return fmt.Errorf("line 1 of the export: not a header of streams: %v", err)
	}
	if len(h.Streams) < 2 {
		return errors.New("line 1 of the export: a header names the streams of a partitioned log, two or more")
	}
	seen := map[string]bool{}
	for _, s := range h.Streams {
		if s.Name == "" || seen[s.Name] {
			return fmt.Errorf("line 1 of the export: stream name %q is empty or repeated", s.Name)
		}
		seen[s.Name] = true
	}
	j.streams = h.Streams
	return nil
}

// Streams is how many streams the export holds: those its header names,
// or 1. An unreadable header counts 1; Messages then returns its error.
func (j *JSONL) Streams() int {
	if j.readHeader() != nil || j.streams == nil {
		return 1
	}
	return len(j.streams)
}

// Names is the name of each stream the header names, nil without one.
func (j *JSONL) Names() []string {
	var names []string
	for _, s := range j.streams {
		names = append(names, s.Name)
	}
	return names
}

// EachStream reads an export of several streams to its end, passing each
// stream's lines in runs of up to 1000 messages, stream after stream.
func (j *JSONL) EachStream(ctx context.Context, fn func(stream int, batch []events.Message) error) error {
	if err := j.readHeader(); err != nil {
		return err
	}
	batch := make([]events.Message, 0, jsonlBatch)
	stream := 0
	for {
		m, err := j.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if j.stream != stream || len(batch) == jsonlBatch {
			if err := flush(ctx, fn, stream, batch); err != nil {
				return err
			}
			batch, stream = make([]events.Message, 0, jsonlBatch), j.stream
		}
		batch = append(batch, m)
	}
	if err := j.complete(len(j.streams)); err != nil {
		return err
	}
	return flush(ctx, fn, stream, batch)
}

// flush passes a non-empty batch of stream to fn.
func flush(ctx context.Context, fn func(int, []events.Message) error, stream int, batch []events.Message) error {
	if len(batch) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn(stream, batch)
}

// enterStream checks the stream of a line against the header and moves to
// it: streams come in the header's order, each complete before the next.
func (j *JSONL) enterStream(l jsonlLine) error {
	if j.streams == nil {
		if l.Stream != "" {
			return fmt.Errorf("seq %d: a line names stream %q, and the export has no header of streams", l.Seq, l.Stream)
		}
		return nil
	}
	k := j.streamIndex(l.Stream)
	switch {
	case k < 0:
		return fmt.Errorf("seq %d: stream %q is not one the header names", l.Seq, l.Stream)
	case k < j.stream:
		return fmt.Errorf("seq %d: stream %s after stream %s; the streams come in the header's order", l.Seq, l.Stream, j.streams[j.stream].Name)
	case k > j.stream:
		if err := j.complete(k); err != nil {
			return err
		}
		j.stream, j.seq = k, 0
	}
	return nil
}

// streamIndex is the index of the stream named name, -1 for none.
func (j *JSONL) streamIndex(name string) int {
	for i, s := range j.streams {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// complete checks that the current stream and those before stream until
// were read to the last sequence the header gives them.
func (j *JSONL) complete(until int) error {
	for i := j.stream; i < until; i++ {
		got := uint64(0)
		if i == j.stream {
			got = j.seq
		}
		if want := j.streams[i].LastSeq; got != want {
			return fmt.Errorf("the export of stream %s ends at seq %d; its header says seq %d", j.streams[i].Name, got, want)
		}
	}
	return nil
}
