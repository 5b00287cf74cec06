package replay_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/replay"
)

// An export read back is a source of several streams when it has them.
var _ replay.StreamsSource = (*replay.JSONL)(nil)

// Issue 23, a partitioned log: the export of a log of 4 partitions holds
// a header naming the 5 streams and their last sequences, then every
// stream's every event, stream after stream, each line naming its stream;
// read back, it rebuilds the live node's views, with the history sum of
// 'audit checksum' on the partitioned log, and so do the views as of an
// instant after the last event (BuildAsOf).
func TestExportPartitionedReplaysAsLive(t *testing.T) {
	n := historytest.StartPartitionedNode(t, 4)
	newWorkload(n, *workloadSeed).run(400)
	lasts := quiesceStreams(t, n)
	live, _, err := n.Store.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	k, err := replay.Export(n.Ctx, n.Log, 0, &buf)
	var total uint64
	for _, l := range lasts {
		total += l
	}
	if err != nil || k != total {
		t.Fatalf("export of 4 partitions: %d events, %v; the streams hold %d", k, err, total)
	}
	exportCoversEveryStream(t, buf.String(), n.Log.StreamNames(), lasts)
	want, err := audit.ChecksumStreams(n.Ctx, n.Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := replayExport(t, buf.Bytes(), len(lasts))
	if res.Checksum != live || !slices.Equal(res.LastSeqs, lasts) || res.History != want.Sum {
		t.Errorf("replay of the export: views %s at %v, history %+v; live %s at %v, audit checksum %+v",
			res.Checksum, res.LastSeqs, res.History, live, lasts, want.Sum)
	}
	if _, err := replay.Export(n.Ctx, n.Log, 3, &bytes.Buffer{}); !errors.Is(err, replay.ErrUntilSeqStreams) {
		t.Errorf("export --until-seq of a partitioned log: %v, want ErrUntilSeqStreams", err)
	}
	asOf, err := replay.BuildAsOf(n.Ctx, n.Log, n.Clock.Now().Add(time.Hour), t.TempDir(), testkit.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer asOf.Store.Close()
	if sum, _, err := asOf.Store.Checksum(); err != nil || sum != live {
		t.Errorf("views as of after the last event of 4 partitions: %s, %v; live %s", sum, err, live)
	}
}

// exportCoversEveryStream checks the header and that the lines are each
// stream's seqs 1 to its last, in stream order, each naming its stream.
func exportCoversEveryStream(t *testing.T, export string, names []string, lasts []uint64) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(export, "\n"), "\n")
	var head struct {
		Streams []struct {
			Name    string `json:"name"`
			LastSeq uint64 `json:"last_seq"`
		} `json:"streams"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &head); err != nil || len(head.Streams) != len(names) {
		t.Fatalf("header %s: %v", lines[0], err)
	}
	for i, s := range head.Streams {
		if s.Name != names[i] || s.LastSeq != lasts[i] {
			t.Errorf("header stream %d: %+v, want %s at %d", i, s, names[i], lasts[i])
		}
	}
	got := make([]uint64, len(names))
	stream := 0
	for _, line := range lines[1:] {
		var l struct {
			Stream string `json:"stream"`
			Seq    uint64 `json:"seq"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil || !strings.HasPrefix(line, `{"stream":`) {
			t.Fatalf("line %s: %v", line, err)
		}
		for stream < len(names) && names[stream] != l.Stream {
			stream++
		}
		if stream == len(names) || l.Seq != got[stream]+1 {
			t.Fatalf("line %s out of stream order after %v", line, got)
		}
		got[stream] = l.Seq
	}
	if !slices.Equal(got, lasts) {
		t.Errorf("the export covers %v; the streams end at %v", got, lasts)
	}
}

// replayExport replays an export of streams streams into a new store.
func replayExport(t *testing.T, export []byte, streams int) replay.Result {
	t.Helper()
	dst, err := projector.Open(projector.Options{Dir: t.TempDir(), Logger: testkit.Quiet(), Streams: streams})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	res, err := replay.Run(t.Context(), replay.ReadJSONL(bytes.NewReader(export)), dst, replay.Options{BatchSize: 97})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ReadJSONL refuses an export of streams that is cut short, out of the
// header's order, or whose lines lose or gain a stream.
func TestReadJSONLRefusesABrokenExportOfStreams(t *testing.T) {
	head := `{"streams":[{"name":"A","last_seq":1},{"name":"B","last_seq":1}]}`
	ev := func(stream string) string {
		return `{"stream":"` + stream + `","seq":1,"subject":"crosstalk.events.policy","raw":"eA=="}`
	}
	plain := `{"seq":1,"subject":"crosstalk.events.policy","raw":"eA=="}`
	cases := map[string][]string{
		"cut short":            {head, ev("A")},
		"streams out of order": {head, ev("B"), ev("A")},
		"a stream left out":    {head, ev("B")},
		"a line of no stream":  {head, ev("A"), plain},
		"an unknown stream":    {head, ev("A"), ev("C")},
		"stream, no header":    {ev("A")},
		"one stream header":    {`{"streams":[{"name":"A","last_seq":1}]}`, ev("A")},
	}
	for name, lines := range cases {
		src := replay.ReadJSONL(strings.NewReader(strings.Join(lines, "\n") + "\n"))
		if src.Streams() > 1 {
			err := src.EachStream(t.Context(), func(int, []events.Message) error { return nil })
			if err == nil {
				t.Errorf("%s: EachStream read it", name)
			}
			continue
		}
		if err := src.Messages(t.Context(), func([]events.Message) error { return nil }); err == nil {
			t.Errorf("%s: Messages read it", name)
		}
	}
}
