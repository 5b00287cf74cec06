package replay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Export writes the stream's messages with sequence 1 to untilSeq (0 means
// the stream's last sequence when Export starts) to w as JSON lines, and
// returns how many it wrote. An untilSeq past the stream's end is an error.
//
// The format: one JSON object per line, in stream order, each line ended by
// "\n", with three members in this order: seq, the stream sequence;
// subject, the stream subject the message was stored on; and event, the
// stored body verbatim. The body is the CloudEvent exactly as JetStream
// holds it, byte for byte, embedded as raw JSON (neither a string nor
// re-encoded), so the bytes between `"event":` and the line's final `}`
// are the stored body:
//
//	{"seq":1,"subject":"crosstalk.events.policy","event":{"specversion":"1.0",...}}
//
// A stored body that is not a compact crosstalk CloudEvent (undecodable
// bytes published into the stream by someone else, which the projector
// records as poison) cannot be embedded verbatim; its line carries
// "raw":"<standard base64 of the stored body>" instead of "event". A line
// never has both.
//
// The envelope is not extended with extension attributes for seq and
// subject: the exported bytes would then differ from the stored ones, and
// the next event's prevhash on the subject would no longer match them.
// The lines let ReadJSONL rebuild the exact messages, so a replay of an
// export builds the same views as a replay of the stream, and its
// Result.History equals audit.Checksum(log, untilSeq).
//
// A partitioned log (several streams, audit.StreamsOf) is exported whole,
// after a header line naming its streams, each line naming its stream (the
// format is at the top of export_streams.go); it refuses untilSeq, a
// position in one stream (ErrUntilSeqStreams).
func Export(ctx context.Context, log audit.Log, untilSeq uint64, w io.Writer) (n uint64, err error) {
	logs, names, err := audit.StreamsOf(ctx, log)
	if err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	if len(logs) > 1 {
		if untilSeq > 0 {
			return 0, fmt.Errorf("export until seq %d: %w", untilSeq, ErrUntilSeqStreams)
		}
		return exportStreams(ctx, logs, names, w)
	}
	last, err := log.LastSeq(ctx)
	if err != nil {
		return 0, fmt.Errorf("export: last sequence: %w", err)
	}
	if untilSeq == 0 {
		untilSeq = last
	}
	if untilSeq > last {
		return 0, fmt.Errorf("export until seq %d: the stream ends at seq %d", untilSeq, last)
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	var line []byte
	err = audit.Walk(ctx, log, untilSeq, audit.EachMessage(func(m events.Message) error {
		line = appendLine(line[:0], "", m)
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write seq %d: %w", m.Seq, err)
		}
		n++
		return nil
	}))
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return n, fmt.Errorf("export until seq %d: %w", untilSeq, err)
	}
	return n, nil
}

// appendLine appends m's export line to b; stream names m's stream on a
// partitioned log, "" on the single stream, whose lines have no stream.
func appendLine(b []byte, stream string, m events.Message) []byte {
	subject, _ := json.Marshal(m.Subject) // a string always encodes
	b = append(b, '{')
	if stream != "" {
		name, _ := json.Marshal(stream)
		b = append(b, `"stream":`...)
		b = append(b, name...)
		b = append(b, ',')
	}
	b = append(b, `"seq":`...)
	b = strconv.AppendUint(b, m.Seq, 10)
	b = append(b, `,"subject":`...)
	b = append(b, subject...)
	if verbatim(m.Data) {
		b = append(b, `,"event":`...)
		b = append(b, m.Data...)
	} else {
		b = append(b, `,"raw":"`...)
		b = base64.StdEncoding.AppendEncode(b, m.Data)
		b = append(b, '"')
	}
	return append(b, "}\n"...)
}

// verbatim reports whether data can be embedded in a line as it is: a
// crosstalk event in compact JSON, so that it holds no newline and a JSON
// decoder hands back exactly these bytes.
func verbatim(data []byte) bool {
	if _, err := events.Decode(data); err != nil {
		return false
	}
	var compact bytes.Buffer
	return json.Compact(&compact, data) == nil && bytes.Equal(compact.Bytes(), data)
}

// JSONL is an export read back (see Export for the format), as a replay
// Source. It checks as it reads: every line is one object with a seq, a
// subject of the stream and exactly one of event and raw; the seqs are
// strictly increasing; every event decodes as a crosstalk CloudEvent. The
// first violation ends Messages with an error naming the line. An export
// of several streams (a header first) is a StreamsSource, read with
// EachStream, which checks each line's stream against the header too. A
// JSONL is read once.
type JSONL struct {
	r     *bufio.Reader
	total uint64
	line  uint64
	seq   uint64 // of the last line read, in its stream
	// headerRead, headerErr: the first line was looked at (readHeader);
	// first is that line when it is no header, for next to read.
	headerRead bool
	headerErr  error
	first      []byte
	// streams is what the header names (nil: one stream), stream the
	// index of the last line's.
	streams []headerStream
	stream  int
}

// ReadJSONL reads an export from r.
func ReadJSONL(r io.Reader) *JSONL {
	return &JSONL{r: bufio.NewReaderSize(r, 256<<10)}
}

// SetTotal tells progress reports how many lines to expect (a count of the
// file's lines made beforehand, say). Without it Total is 0, unknown.
func (j *JSONL) SetTotal(n uint64) { j.total = n }

// Total is the count given to SetTotal, or 0.
func (j *JSONL) Total() uint64 { return j.total }

// jsonlBatch is how many lines Messages passes to fn at a time.
const jsonlBatch = 1000

// Messages reads the lines to the end of the input and passes them to fn
// in runs of up to 1000 messages.
// An export of several streams refuses it: read those with EachStream.
func (j *JSONL) Messages(ctx context.Context, fn func([]events.Message) error) error {
	if err := j.readHeader(); err != nil {
		return err
	}
	if j.streams != nil {
		return errSeveralStreams
	}
	batch := make([]events.Message, 0, jsonlBatch)
	for {
		m, err := j.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if batch = append(batch, m); len(batch) == jsonlBatch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(batch); err != nil {
				return err
			}
			batch = make([]events.Message, 0, jsonlBatch)
		}
	}
	if len(batch) == 0 {
		return nil
	}
	return fn(batch)
}

// jsonlLine is one line of an export.
type jsonlLine struct {
	Stream  string          `json:"stream"`
	Seq     uint64          `json:"seq"`
	Subject string          `json:"subject"`
	Event   json.RawMessage `json:"event"`
	Raw     []byte          `json:"raw"`
}

// next reads and checks the next line; io.EOF at the end of the input.
func (j *JSONL) next() (events.Message, error) {
	if err := j.readHeader(); err != nil {
		return events.Message{}, err
	}
	var text []byte
	var err error
	if j.first != nil {
		text, j.first = j.first, nil
	} else {
		text, err = j.r.ReadBytes('\n')
	}
	if errors.Is(err, io.EOF) && len(text) == 0 {
		return events.Message{}, io.EOF
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return events.Message{}, fmt.Errorf("read line %d: %w", j.line+1, err)
	}
	j.line++
	m, err := j.parse(text)
	if err != nil {
		return events.Message{}, fmt.Errorf("line %d of the export: %w", j.line, err)
	}
	j.seq = m.Seq
	return m, nil
}

// streamPrefix is what every subject of the stream starts with.
var streamPrefix = strings.TrimSuffix(events.StreamSubjects, ">")

func (j *JSONL) parse(text []byte) (events.Message, error) {
	if len(bytes.TrimSpace(text)) == 0 {
		return events.Message{}, errors.New("the line is empty; an export has one JSON object on every line")
	}
	var l jsonlLine
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return events.Message{}, fmt.Errorf("not an export line: %v", err) // not %w: io.EOF here is no end
	}
	if dec.More() {
		return events.Message{}, errors.New("not an export line: more than one JSON value")
	}
	if err := j.enterStream(l); err != nil {
		return events.Message{}, err
	}
	switch {
	case l.Seq <= j.seq:
		return events.Message{}, fmt.Errorf("seq %d does not follow seq %d; an export is in strictly increasing stream order", l.Seq, j.seq)
	case !strings.HasPrefix(l.Subject, streamPrefix) || len(l.Subject) == len(streamPrefix):
		return events.Message{}, fmt.Errorf("seq %d: subject %q is not a subject of stream %s (%s)", l.Seq, l.Subject, events.StreamName, events.StreamSubjects)
	case (l.Event == nil) == (l.Raw == nil):
		return events.Message{}, fmt.Errorf("seq %d: a line has exactly one of \"event\" and \"raw\"", l.Seq)
	case l.Raw != nil:
		return events.Message{Seq: l.Seq, Subject: l.Subject, Data: l.Raw}, nil
	}
	if _, err := events.Decode(l.Event); err != nil {
		return events.Message{}, fmt.Errorf("seq %d: the event does not decode: %w", l.Seq, err)
	}
	return events.Message{Seq: l.Seq, Subject: l.Subject, Data: l.Event}, nil
}
