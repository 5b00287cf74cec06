package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
	"github.com/crosstalk-dev/crosstalk/replay"
)

// Pin the replay sources to the interface Replay consumes.
var (
	_ replay.Source = (*replay.LogSource)(nil)
	_ replay.Source = (*replay.JSONL)(nil)
)

// export writes f's stream up to until as JSON lines.
func export(f *historytest.Fixture, until uint64) []byte {
	f.T.Helper()
	var buf bytes.Buffer
	if _, err := replay.Export(f.Ctx, f.Log, until, &buf); err != nil {
		f.T.Fatal(err)
	}
	return buf.Bytes()
}

// Every line carries the stored body verbatim between `"event":` and the
// closing brace, with the seq and subject it was stored at; a body that
// is not an event is carried as base64, so nothing is lost or re-encoded.
func TestExportLinesHoldTheStoredBytes(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	junk := f.Raw(events.ConversationSubject(historytest.Conv1), []byte("not an event\n{"))
	spaced := f.Raw(events.ConversationSubject(historytest.Conv2), []byte(`{ "specversion": "1.0" }`))
	f.Send(historytest.Conv1, historytest.Alice, "after the junk")
	msgs := f.Messages()

	out := export(f, 0)
	lines := strings.SplitAfter(string(out), "\n")
	if last := lines[len(lines)-1]; last != "" {
		t.Fatalf("the export must end with a newline; it ends with %q", last)
	}
	lines = lines[:len(lines)-1]
	if len(lines) != len(msgs) {
		t.Fatalf("%d lines for %d messages", len(lines), len(msgs))
	}
	for i, m := range msgs {
		line := lines[i]
		var l struct {
			Seq     uint64          `json:"seq"`
			Subject string          `json:"subject"`
			Event   json.RawMessage `json:"event"`
			Raw     []byte          `json:"raw"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
		}
		if l.Seq != m.Seq || l.Subject != m.Subject {
			t.Errorf("line %d: seq %d subject %s, stored at seq %d on %s", i+1, l.Seq, l.Subject, m.Seq, m.Subject)
		}
		switch m.Seq {
		case junk, spaced:
			if l.Event != nil || !bytes.Equal(l.Raw, m.Data) {
				t.Errorf("seq %d is not an event; want it as raw base64, got %s", m.Seq, line)
			}
		default:
			prefix := `{"seq":` + itoa(m.Seq) + `,"subject":"` + m.Subject + `","event":`
			if line != prefix+string(m.Data)+"}\n" {
				t.Errorf("line %d does not embed the stored bytes verbatim:\n%s\nstored: %s", i+1, line, m.Data)
			}
		}
	}
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }

// An export read back is the same history: replaying it and replaying the
// stream build the same views, and the replayed history's sum is the
// audit checksum of the stream.
func TestExportReplaysAsTheStream(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	f.Raw(events.ConversationSubject(historytest.Conv1), []byte("not an event"))
	f.Send(historytest.Conv1, historytest.Bob, "still here")
	last := f.LastSeq()

	live := f.Project()
	want, _, err := live.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	fromLog := replayFixture(f, replay.Options{})
	fromFile, err := replay.Run(f.Ctx, replay.ReadJSONL(bytes.NewReader(export(f, 0))), f.Views(), replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum := f.Checksum(last)
	for name, r := range map[string]replay.Result{"the stream": fromLog, "the export": fromFile} {
		if r.Checksum != want || r.Events != last || r.LastSeq != last || r.History != sum {
			t.Errorf("replay of %s: %+v; want views %s, %d events, history %+v", name, r, want, last, sum)
		}
	}

	t.Run("until a sequence", func(t *testing.T) {
		out := export(f, 3)
		if n := bytes.Count(out, []byte("\n")); n != 3 {
			t.Fatalf("export until seq 3 wrote %d lines", n)
		}
		if _, err := replay.Export(f.Ctx, f.Log, last+1, &bytes.Buffer{}); err == nil {
			t.Fatal("an export past the end of the stream must fail")
		}
	})
}

func replayFixture(f *historytest.Fixture, opts replay.Options) replay.Result {
	f.T.Helper()
	src, err := replay.FromLog(f.Ctx, f.Log)
	if err != nil {
		f.T.Fatal(err)
	}
	r, err := replay.Run(f.Ctx, src, f.Views(), opts)
	if err != nil {
		f.T.Fatal(err)
	}
	return r
}

// ReadJSONL refuses a file that is not an export of a stream, naming the
// line, rather than build views from something else.
func TestReadJSONLRefusesWhatIsNotAnExport(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	good := strings.Split(strings.TrimSuffix(string(export(f, 0)), "\n"), "\n")
	event := func(i int) string {
		return good[i][strings.Index(good[i], `"event":`)+len(`"event":`) : len(good[i])-1]
	}
	cases := map[string]struct {
		lines []string
		want  string
	}{
		"seqs going back":    {[]string{good[1], good[0]}, "line 2 of the export: seq 1 does not follow seq 2"},
		"a repeated seq":     {[]string{good[0], good[0]}, "seq 1 does not follow seq 1"},
		"seq zero":           {[]string{`{"seq":0,"subject":"crosstalk.events.policy","event":` + event(0) + `}`}, "seq 0 does not follow"},
		"another subject":    {[]string{`{"seq":1,"subject":"orders.new","event":` + event(0) + `}`}, "not a subject of stream"},
		"no subject":         {[]string{`{"seq":1,"event":` + event(0) + `}`}, "not a subject of stream"},
		"an event that lies": {[]string{`{"seq":1,"subject":"crosstalk.events.policy","event":{"specversion":"0.3"}}`}, "does not decode"},
		"an event as null":   {[]string{`{"seq":1,"subject":"crosstalk.events.policy","event":null}`}, "does not decode"},
		"both event and raw": {[]string{`{"seq":1,"subject":"crosstalk.events.policy","event":` + event(0) + `,"raw":"eA=="}`}, "exactly one"},
		"neither":            {[]string{`{"seq":1,"subject":"crosstalk.events.policy"}`}, "exactly one"},
		"an unknown field":   {[]string{`{"seq":1,"subject":"crosstalk.events.policy","event":` + event(0) + `,"time":"now"}`}, "unknown field"},
		"two values":         {[]string{good[0] + ` {}`}, "more than one JSON value"},
		"not JSON":           {[]string{good[0], "seq 2"}, "line 2 of the export: not an export line"},
		"an empty line":      {[]string{good[0], "", good[1]}, "line 2 of the export"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			src := replay.ReadJSONL(strings.NewReader(strings.Join(c.lines, "\n") + "\n"))
			_, err := replay.Run(f.Ctx, src, f.Views(), replay.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error with %q, got %v", c.want, err)
			}
		})
	}
	t.Run("without a final newline", func(t *testing.T) {
		r, err := replay.Run(f.Ctx, replay.ReadJSONL(strings.NewReader(strings.Join(good, "\n"))), f.Views(), replay.Options{})
		if err != nil || r.Events != uint64(len(good)) {
			t.Fatalf("%+v, %v", r, err)
		}
	})
	t.Run("empty", func(t *testing.T) {
		r, err := replay.Run(context.Background(), replay.ReadJSONL(strings.NewReader("")), f.Views(), replay.Options{})
		if err != nil || r.Events != 0 || r.LastSeq != 0 {
			t.Fatalf("%+v, %v", r, err)
		}
	})
}
