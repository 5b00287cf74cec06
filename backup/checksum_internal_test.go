package backup

import (
	"context"
	"testing"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
)

// A stream that was empty in its snapshot sums to the sum of nothing in
// the manifest, even once events were appended to it: what a restore of
// the snapshot sums to. Any other stream sums up to its sequence.
func TestLogSumOfAStreamEmptyAtItsSnapshot(t *testing.T) {
	n := historytest.StartPartitionedNode(t, 2)
	k := n.Log.StreamIndexOf(events.ConversationSubject(n.Chat("instagram:ann", "instagram:bob")))
	seqs, err := n.Log.LastSeqs(n.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	until := append([]uint64(nil), seqs...)
	until[k] = 0
	got, err := logSum(context.Background(), n.Log, until)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := audit.ChecksumStreams(context.Background(), n.Log, nil)
	if err != nil {
		t.Fatal(err)
	}
	empty := audit.NewSummer().Sum()
	if seqs[k] == 0 || got.Streams[k].Hex != empty.Hex || got.Streams[k].Events != 0 ||
		got.Events != whole.Events-whole.Streams[k].Events || got.Hex == whole.Hex {
		t.Fatalf("stream %d (last seq %d) summed as %+v, the whole log %+v", k, seqs[k], got, whole)
	}
	for i := range seqs {
		if i != k && got.Streams[i] != whole.Streams[i] {
			t.Errorf("stream %d: %+v, want %+v", i, got.Streams[i], whole.Streams[i])
		}
	}
}
