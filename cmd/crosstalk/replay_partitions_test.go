package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// Issue 23, a partitioned log: the offline rebuild of a stopped node on 4
// partitions ('crosstalk replay --data DIR --out DIR2') gives the views
// checksum of the node's live views, reads every stream to its end, and
// keeps views that the node's own directory could open.
func TestReplayStoppedPartitionedNode(t *testing.T) {
	dir := t.TempDir()
	live, lasts := partitionedHistory(t, dir, 30)
	out := t.TempDir() + "/views"
	rep := replayJSON(t, "--data", dir, "--out", out)
	if rep.ViewsChecksum != live || len(rep.Streams) != 5 || rep.Streams[4].Name != eventlog.PolicyStreamName {
		t.Fatalf("replay of a stopped partitioned node: %+v; live views %s", rep, live)
	}
	var got []uint64
	for _, s := range rep.Streams {
		got = append(got, s.LastSeq)
	}
	if !slices.Equal(got, lasts) {
		t.Errorf("replay read the streams to %v, they end at %v", got, lasts)
	}
	text, _ := runOK(t, "replay", "--data", dir)
	if field(t, text, "views checksum") != live || field(t, text, eventlog.PartitionStreamName(0)) == "" {
		t.Errorf("replay's text on a partitioned log:\n%s", text)
	}
	if err := runFails(t, "replay", "--data", dir, "--until-seq", "2"); err == nil {
		t.Error("--until-seq on a partitioned log")
	}
}

// partitionedHistory runs a node on 4 partitions in dir, starts convs
// conversations and sends in each, stops the node, and returns the
// checksum of its live views and each stream's last sequence.
func partitionedHistory(t *testing.T, dir string, convs int) (string, []uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := node.Start(ctx, node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet(), Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := n.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = stop()
		}
	}()
	c := client.New(n.Conn())
	doc, err := policies.Read("v1-2020-cross-app.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishPolicy(ctx, client.PolicyCommandID(doc), json.RawMessage(doc)); err != nil {
		t.Fatal(err)
	}
	for i := range convs {
		r, err := c.Command(ctx, "instagram", "conversation.start", map[string]any{"command_id": uuid.NewString(),
			"actor": "instagram:alice", "participants": []string{fmt.Sprintf("messenger:bob%d", i)}})
		if err == nil {
			_, err = c.Command(ctx, "instagram", "message.send", map[string]any{"command_id": uuid.NewString(),
				"actor": "instagram:alice", "conversation_id": r.ConversationID, "text": "hi"})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	lasts, err := n.Log().LastSeqs(ctx)
	if err == nil {
		err = n.Store().WaitForAll(ctx, lasts)
	}
	if err != nil {
		t.Fatal(err)
	}
	live, _, err := n.Store().Checksum()
	if err != nil {
		t.Fatal(err)
	}
	stopped = true
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	return live, lasts
}

// Issue 23, a partitioned log: 'audit export' of a stopped node on 4
// partitions writes every stream's every event, and 'replay --from-jsonl'
// of it gives the live views checksum, reads each stream to its end, and
// reports the history sum 'audit checksum' gives the log; the replay of
// the streams themselves reports the same sum.
func TestExportPartitionedThenReplay(t *testing.T) {
	dir := t.TempDir()
	live, lasts := partitionedHistory(t, dir, 30)
	file := filepath.Join(t.TempDir(), "history.jsonl")
	_, summary := runOK(t, "audit", "export", "--data", dir, "--out", file)
	var total uint64
	for _, l := range lasts {
		total += l
	}
	if !strings.Contains(summary, fmt.Sprintf("exported %d events of 5 streams", total)) {
		t.Errorf("export summary of 4 partitions: %s (the streams hold %d)", summary, total)
	}
	rep := replayJSON(t, "--from-jsonl", file)
	var got []uint64
	for _, s := range rep.Streams {
		got = append(got, s.LastSeq)
	}
	sum := field(t, auditRun(t, "audit", "checksum", "--data", dir), "sha256")
	if rep.ViewsChecksum != live || !slices.Equal(got, lasts) || rep.Events != total || rep.History.Hex != sum {
		t.Fatalf("replay of the export: %+v; live views %s, streams end at %v, audit checksum %s", rep, live, lasts, sum)
	}
	if fromStreams := replayJSON(t, "--data", dir); fromStreams.History != rep.History {
		t.Errorf("history of the streams %+v, of the export %+v", fromStreams.History, rep.History)
	}
	if err := runFails(t, "audit", "export", "--data", dir, "--until-seq", "2"); err == nil {
		t.Error("export --until-seq on a partitioned log")
	}
}
