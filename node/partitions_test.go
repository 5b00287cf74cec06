package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/crosstalk-dev/crosstalk/clock"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/service"
)

// partitionedOptions are a node's options on dir with n partitions and a
// quick closer.
func partitionedOptions(dir string, n int) node.Options {
	return node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet(), Partitions: n,
		Service: service.Options{Clock: clock.Wall{}, PolicyCheckInterval: 20 * time.Millisecond, CloseGrace: service.DefaultAppendTimeout}}
}

// A node on four partitions: commands on many conversations spread over
// the four streams, a retried command is answered from its first reply,
// the views follow every stream (status names each, lag 0), queries answer,
// min_seq is refused, the live feeds publish, an online rebuild follows
// every stream, and the closer closes across partitions.
func TestPartitionedNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	n, err := node.Start(ctx, partitionedOptions(dir, 4))
	if err != nil {
		t.Fatal(err)
	}
	stop, err := n.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(n.Conn())
	publishPolicy(ctx, t, c, "v1-2020-cross-app.json")
	notes, err := n.Conn().SubscribeSync("crosstalk.feed.>")
	if err != nil {
		t.Fatal(err)
	}
	convs := startMany(ctx, t, c, 24)
	if _, err := notes.NextMsg(10 * time.Second); err != nil {
		t.Errorf("no live feed notification from the partitioned views: %v", err)
	}
	_ = notes.Unsubscribe()
	for i, p := range n.Log().Streams()[:4] {
		if info, err := p.Info(ctx); err != nil || info.State.Msgs == 0 {
			t.Errorf("partition %d (%s) holds no message: %v", i, p.Name(), err)
		}
	}
	retry := map[string]any{"command_id": convs[0].cmdID, "actor": "instagram:alice", "participants": []string{"messenger:bob0"}}
	if r, err := c.Command(ctx, "instagram", "conversation.start", retry); err != nil || !r.Duplicate || r.ConversationID != convs[0].id {
		t.Errorf("retried start: %+v %v", r, err)
	}
	st := waitViews(ctx, t, c)
	if len(st.Streams) != 5 || st.Streams[4].Name != eventlog.PolicyStreamName {
		t.Errorf("status streams %+v", st.Streams)
	}
	var conv api.ConversationView
	if err := c.Query(ctx, api.QueryConversation, map[string]any{"conversation_id": convs[5].id}, &conv); err != nil || conv.Version != 1 {
		t.Errorf("conversation query: %+v %v", conv, err)
	}
	readsItsWrites(ctx, t, c, convs[6].id)
	for _, bad := range []map[string]any{{"min_seq": 1}, {"after": "v1.1"}, {"after": "v1.0.0.0.0.99999"}} {
		bad["conversation_id"] = convs[5].id
		if err := c.Query(ctx, api.QueryConversation, bad, &conv); !strings.Contains(fmt.Sprint(err), api.CodeInvalidRequest) {
			t.Errorf("query %v on a partitioned log: %v, want 400 invalid_request", bad, err)
		}
	}
	publishPolicy(ctx, t, c, "v2-2023-12-cross-app-disconnect.json")
	testkit.WaitPolicyApplied(t, func() (api.PolicyReport, error) {
		var rep api.PolicyReport
		return rep, c.Query(ctx, api.QueryPolicy, api.QueryBase{}, &rep)
	}, 2)
	if p := rebuildAndWait(ctx, t, c); p.Applied < p.Target || p.Target == 0 {
		t.Errorf("online rebuild of a partitioned log: %+v", p)
	}
	if cps := n.Store().Checkpoints(); len(cps) != 5 {
		t.Errorf("the rebuilt store follows %d streams", len(cps))
	}
	waitViews(ctx, t, c)
	for _, cv := range convs {
		if err := c.Query(ctx, api.QueryConversation, map[string]any{"conversation_id": cv.id}, &conv); err != nil || !conv.Closed {
			t.Fatalf("conversation %s after v2: %+v %v", cv.id, conv, err)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	restartLearnsPartitions(ctx, t, dir)
}

// restartLearnsPartitions restarts the node on dir with --partitions 0
// (learned: 4) and with 2 (refused), and checks that it warns of no
// auditor's mirrors where there is no AUDIT account (development mode),
// and that the offline tools open its streams and its views, which audit
// verify checks.
func restartLearnsPartitions(ctx context.Context, t *testing.T, dir string) {
	t.Helper()
	if _, err := node.Start(ctx, partitionedOptions(dir, 2)); !errors.Is(err, eventlog.ErrPartitionsMismatch) {
		t.Errorf("--partitions 2 on a 4-partition log: %v", err)
	}
	var logs testkit.LockedBuffer
	o := partitionedOptions(dir, 0)
	o.Logger = logs.Logger()
	n, err := node.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "mirror") {
			t.Errorf("a warning of the auditor's mirrors where there is no AUDIT account: %s", line)
		}
	}
	if n.Log().Partitions() != 4 || len(n.Store().Checkpoints()) != 5 {
		t.Errorf("restart: %d partitions, %d checkpoints", n.Log().Partitions(), len(n.Store().Checkpoints()))
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	h, err := node.OpenHistory(ctx, node.Source{Dir: dir}, true, testkit.Quiet())
	if err != nil {
		t.Fatalf("open the history of a stopped partitioned node: %v", err)
	}
	defer h.Close()
	if len(h.Log().Streams()) != 5 || h.Views() == nil || len(h.Views().Checkpoints()) != 5 {
		t.Errorf("history of a stopped partitioned node: %d streams, views %v", len(h.Log().Streams()), h.Views())
	}
	if rep, err := audit.Verify(ctx, h.Log(), h.Views()); err != nil || !rep.OK() || len(rep.Streams) != 5 || rep.ViewsChecked == 0 {
		t.Errorf("verify of a stopped partitioned node: %+v %v", rep, err)
	}
}

type started struct{ id, cmdID string }

// startMany starts n cross-app conversations.
func startMany(ctx context.Context, t *testing.T, c *client.Client, n int) []started {
	t.Helper()
	var out []started
	for i := range n {
		id := uuid.NewString()
		r, err := c.Command(ctx, "instagram", "conversation.start", map[string]any{
			"command_id": id, "actor": "instagram:alice", "participants": []string{fmt.Sprintf("messenger:bob%d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, started{id: r.ConversationID, cmdID: id})
	}
	return out
}

// publishPolicy publishes one of docs/policies.
func publishPolicy(ctx context.Context, t *testing.T, c *client.Client, name string) {
	t.Helper()
	data, err := policies.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishPolicy(ctx, client.PolicyCommandID(data), json.RawMessage(data)); err != nil {
		t.Fatal(err)
	}
}

// waitViews waits until the status says the views have applied every
// stream, and returns it.
func waitViews(ctx context.Context, t *testing.T, c *client.Client) api.Status {
	t.Helper()
	for ctx.Err() == nil {
		var st api.Status
		if err := c.Query(ctx, api.QueryStatus, api.QueryBase{}, &st); err != nil {
			t.Fatal(err)
		}
		if st.Lag == 0 && st.StreamLastSeq > 0 {
			for _, s := range st.Streams {
				if s.Lag != 0 || s.Checkpoint != s.LastSeq {
					t.Fatalf("status lag 0 but stream %+v", s)
				}
			}
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal(ctx.Err())
	return api.Status{}
}

// readsItsWrites sends a message to conv and reads it back at once with
// after = the reply's position, which names one sequence per stream.
func readsItsWrites(ctx context.Context, t *testing.T, c *client.Client, conv string) {
	t.Helper()
	r, err := c.Command(ctx, "instagram", "message.send", map[string]any{"command_id": uuid.NewString(),
		"actor": "instagram:alice", "conversation_id": conv, "text": "mine"})
	if err != nil {
		t.Fatal(err)
	}
	seqs, err := r.Position.Seqs()
	if err != nil || len(seqs) != 5 || slices.Max(seqs) != r.StreamSeq {
		t.Fatalf("position %q of a reply on 4 partitions (seq %d): %v", r.Position, r.StreamSeq, err)
	}
	var page api.MessagePage
	q := map[string]any{"conversation_id": conv, "viewer": "instagram:alice", "after": r.Position}
	if err := c.Query(ctx, api.QueryMessages, q, &page); err != nil || len(page.Items) != 1 {
		t.Errorf("messages after %s: %+v %v", r.Position, page, err)
	}
}
