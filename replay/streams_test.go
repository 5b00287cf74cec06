package replay_test

import (
	"slices"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/replay"
)

// Issue 23, a partitioned log: a replay of a log of 4 partitions reads
// every event of every stream, each stream from its seq 1 in its order
// (stream after stream, P0 … P3, POLICY), so every subject's events in
// their order, and rebuilds the views the live, partitioned node built,
// key for key; each stream's history sum is audit.Checksum of that stream.
func TestReplayPartitionedEqualsLive(t *testing.T) {
	n := historytest.StartPartitionedNode(t, 4)
	w := newWorkload(n, *workloadSeed)
	w.run(400)
	lasts := quiesceStreams(t, n)
	live, _, err := n.Store.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	src, err := replay.FromStreams(n.Ctx, streamsOf(n))
	if err != nil {
		t.Fatal(err)
	}
	readsEveryStream(t, n, src, lasts)
	dst, err := projector.Open(projector.Options{Dir: t.TempDir(), Logger: testkit.Quiet(), Streams: len(lasts)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dst.Close() })
	res, err := replay.Run(n.Ctx, src, dst, replay.Options{BatchSize: 97})
	if err != nil {
		t.Fatal(err)
	}
	if res.Checksum != live || !slices.Equal(res.LastSeqs, lasts) || !slices.Equal(dst.Checkpoints(), lasts) {
		t.Errorf("replay of 4 partitions: views %s, last seqs %v, checkpoints %v; live %s at %v",
			res.Checksum, res.LastSeqs, dst.Checkpoints(), live, lasts)
	}
	for i, log := range n.Log.Streams() {
		if sum, err := audit.Checksum(n.Ctx, log, lasts[i]); err != nil || sum != res.Histories[i] {
			t.Errorf("history of %s: %+v, audit.Checksum %+v %v", log.Name(), res.Histories[i], sum, err)
		}
	}
	if _, err := replay.Run(n.Ctx, src, newStore(t), replay.Options{}); err == nil {
		t.Error("a replay of 4 partitions into a store of one stream was not refused")
	}
	if _, err := replay.Run(n.Ctx, src, dst, replay.Options{UntilSeq: 3}); err == nil {
		t.Error("--until-seq on a partitioned log was not refused")
	}
}

// readsEveryStream checks that src delivers each stream's sequences 1 to
// its last, in order, stream after stream, and so each subject's events in
// the order of their stream version.
func readsEveryStream(t *testing.T, n *historytest.Node, src *replay.LogSource, lasts []uint64) {
	t.Helper()
	got := make([]uint64, len(lasts))
	order := -1
	versions := map[string]uint64{}
	err := src.EachStream(n.Ctx, func(stream int, batch []events.Message) error {
		if stream < order {
			t.Fatalf("stream %d after stream %d", stream, order)
		}
		order = stream
		for _, m := range batch {
			if m.Seq != got[stream]+1 {
				t.Fatalf("stream %d: seq %d after %d", stream, m.Seq, got[stream])
			}
			got[stream] = m.Seq
			e, err := events.Decode(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			if e.StreamVersion != versions[m.Subject]+1 {
				t.Fatalf("%s: version %d after %d", m.Subject, e.StreamVersion, versions[m.Subject])
			}
			versions[m.Subject] = e.StreamVersion
		}
		return nil
	})
	if err != nil || !slices.Equal(got, lasts) {
		t.Fatalf("read %v of %v: %v", got, lasts, err)
	}
	for i, last := range lasts[:len(lasts)-1] {
		if last == 0 {
			t.Errorf("partition %d holds no event: the workload did not spread", i)
		}
	}
}

// streamsOf is the node's streams as audit.Logs.
func streamsOf(n *historytest.Node) []audit.Log {
	var logs []audit.Log
	for _, s := range n.Log.Streams() {
		logs = append(logs, s)
	}
	return logs
}

// quiesceStreams waits until no stream grows and the live views have
// applied every one, and returns each stream's last sequence.
func quiesceStreams(t *testing.T, n *historytest.Node) []uint64 {
	t.Helper()
	var last []uint64
	for {
		now, err := n.Log.LastSeqs(n.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Store.WaitForAll(n.Ctx, now); err != nil {
			t.Fatal(err)
		}
		if slices.Equal(now, last) {
			return last
		}
		last = now
		time.Sleep(200 * time.Millisecond)
	}
}
