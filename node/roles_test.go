package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

func TestParseRoles(t *testing.T) {
	for in, want := range map[string]node.Roles{
		"commands,queries,closer,intake": node.AllRoles,
		"commands":                       {node.RoleCommands},
		" queries , closer,queries":      {node.RoleQueries, node.RoleCloser},
	} {
		got, err := node.ParseRoles(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseRoles(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", ",", "commands,reads", "Commands"} {
		if _, err := node.ParseRoles(in); !errors.Is(err, node.ErrBadRoles) {
			t.Errorf("ParseRoles(%q): %v, want ErrBadRoles", in, err)
		}
	}
}

func TestCheckNodeID(t *testing.T) {
	for _, id := range []string{"a", "n-0af3c2d1", "cmd-1", strings.Repeat("x", 32)} {
		if err := node.CheckNodeID(id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	for _, id := range []string{"", "-a", "Node", "a.b", "a b", "a*", strings.Repeat("x", 33)} {
		if err := node.CheckNodeID(id); !errors.Is(err, node.ErrBadNodeID) {
			t.Errorf("%q: %v, want ErrBadNodeID", id, err)
		}
	}
}

// A node's id is generated on its first start and kept in the data
// directory; --node-id overrides it and is kept in its place; a bad one
// given or kept stops the start.
func TestNodeIDIsKeptAndOverridden(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	start := func(id string) (string, error) {
		n, err := node.Start(ctx, node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet(), NodeID: id})
		if err != nil {
			return "", err
		}
		return n.ID(), n.Close()
	}
	first, err := start("")
	if err != nil || node.CheckNodeID(first) != nil || !strings.HasPrefix(first, "n-") {
		t.Fatalf("first start: id %q, %v", first, err)
	}
	if again, err := start(""); err != nil || again != first {
		t.Fatalf("restart: id %q, %v; want %q", again, err, first)
	}
	if given, err := start("edge-7"); err != nil || given != "edge-7" {
		t.Fatalf("--node-id edge-7: id %q, %v", given, err)
	}
	if kept, err := start(""); err != nil || kept != "edge-7" {
		t.Fatalf("after --node-id: id %q, %v", kept, err)
	}
	if _, err := start("Edge_7"); !errors.Is(err, node.ErrBadNodeID) {
		t.Fatalf("a bad --node-id: %v", err)
	}
	if err := os.WriteFile(node.Layout{Dir: dir}.NodeID(), []byte("Not.An.Id\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := start(""); !errors.Is(err, node.ErrBadNodeID) || !strings.Contains(err.Error(), "node-id") {
		t.Fatalf("a bad kept id: %v", err)
	}
}

// cluster is three nodes on one nats-server: q-1 with every role, q-2
// with the queries role alone, cmd-1 with the commands role alone.
type cluster struct {
	nc               *nats.Conn
	c                *client.Client
	all, reads, cmds *node.Node
}

func startCluster(ctx context.Context, t *testing.T) cluster {
	srv := natstest.Start(t)
	start := func(id string, roles node.Roles) *node.Node {
		return runNode(ctx, t, node.Options{Dir: t.TempDir(), NatsURL: srv.URL(), Logger: testkit.Quiet(),
			NodeID: id, Roles: roles})
	}
	cl := cluster{all: start("q-1", nil), reads: start("q-2", node.Roles{node.RoleQueries}),
		cmds: start("cmd-1", node.Roles{node.RoleCommands})}
	cl.nc = srv.Connect(t)
	cl.c = client.New(cl.nc)
	return cl
}

// A commands-only node keeps no read model, answers commands beside a
// node with every role (each reply naming its node), and never a query;
// the nodes with the queries role answer those, and see its writes.
func TestCommandsOnlyNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl := startCluster(ctx, t)
	if cl.cmds.Store() != nil {
		t.Fatal("the commands-only node opened a read model")
	}
	if _, err := os.Stat(cl.cmds.Layout().Views()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the commands-only node's data directory has views: %v", err)
	}
	answered := map[string]int{}
	var last uint64
	for i := 0; i < 200 && (answered["q-1"] == 0 || answered["cmd-1"] == 0); i++ {
		body, _ := json.Marshal(map[string]any{"command_id": uuid.NewString(), "actor": "instagram:alice", "status": "active"})
		msg, err := cl.nc.RequestWithContext(ctx, api.CommandSubject("instagram", api.ActionPresenceSet), body)
		if err != nil || msg.Header.Get(micro.ErrorCodeHeader) != "" {
			t.Fatalf("presence.set: %v %s", err, msg.Data)
		}
		var r api.CommandReply
		if err := json.Unmarshal(msg.Data, &r); err != nil {
			t.Fatal(err)
		}
		last = r.StreamSeq
		answered[msg.Header.Get(api.NodeHeader)]++
	}
	if len(answered) != 2 || answered["q-1"] == 0 || answered["cmd-1"] == 0 {
		t.Fatalf("commands answered by %v, want q-1 and cmd-1 (never q-2, which has no commands role)", answered)
	}
	for range 20 { // queries: q-1 or q-2, read-your-writes after either's command
		msg, err := cl.c.Raw(ctx, api.QuerySubject(api.QueryPresence),
			[]byte(`{"viewer":"instagram:alice","account":"instagram:alice","min_seq":`+jsonNumber(last)+`}`))
		if err != nil || msg.Header.Get(micro.ErrorCodeHeader) != "" {
			t.Fatalf("presence query: %v %s", err, msg.Data)
		}
		if by := msg.Header.Get(api.NodeHeader); by != "q-1" && by != "q-2" {
			t.Fatalf("a query answered by %q", by)
		}
	}
}

func jsonNumber(n uint64) string { b, _ := json.Marshal(n); return string(b) }

// nats micro info lists each node with its id and roles; the status (a
// query, or one node's admin status) names its node, every node it sees,
// and who holds each lease.
func TestNodesSeeEachOther(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl := startCluster(ctx, t)
	want := map[string]string{"q-1": "commands,queries,closer,intake", "q-2": "queries", "cmd-1": "commands"}
	if got := microInfo(ctx, t, cl.nc); !mapsEqual(got, want) {
		t.Fatalf("micro info: %v, want %v", got, want)
	}
	st := awaitLeases(ctx, t, cl.c) // q-1 alone has the roles closer and intake
	if st.Node != "q-1" && st.Node != "q-2" {
		t.Fatalf("query.status answered by %q", st.Node)
	}
	checkStatusNodes(t, st, want)
	for _, name := range []string{"closer", "intake"} {
		if l := st.Leases[name]; l.Node != "q-1" || l.Term == 0 || l.Since.IsZero() {
			t.Fatalf("lease %s: %+v, want q-1's", name, l)
		}
	}
	st, err := cl.c.NodeStatus(ctx, "cmd-1")
	if err != nil || st.Node != "cmd-1" || st.Views || !slices.Equal(st.Roles, []string{"commands"}) {
		t.Fatalf("cmd-1's status: %+v, %v", st, err)
	}
	checkStatusNodes(t, st, want)
}

func checkStatusNodes(t *testing.T, st api.Status, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, n := range st.Nodes {
		got[n.Node] = strings.Join(n.Roles, ",")
	}
	if !mapsEqual(got, want) {
		t.Fatalf("%s's status lists the nodes %v, want %v", st.Node, got, want)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// microInfo gathers the $SRV.INFO.crosstalk answers for a second: node id
// to roles, from the metadata.
func microInfo(ctx context.Context, t *testing.T, nc *nats.Conn) map[string]string {
	t.Helper()
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest("$SRV.INFO."+api.ServiceName, inbox, nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for {
		msg, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var info micro.Info
		if err := json.Unmarshal(msg.Data, &info); err != nil {
			t.Fatal(err)
		}
		got[info.Metadata[api.MetadataNode]] = info.Metadata[api.MetadataRoles]
		if len(got) == 3 {
			return got
		}
	}
}

// awaitLeases asks query.status until it names a holder of both leases.
func awaitLeases(ctx context.Context, t *testing.T, c *client.Client) api.Status {
	t.Helper()
	for {
		var st api.Status
		if err := c.Query(ctx, api.QueryStatus, api.QueryBase{}, &st); err != nil {
			t.Fatal(err)
		}
		if len(st.Leases) == 2 {
			return st
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no holder of both leases: %+v", st.Leases)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// A rebuild asked of one node rebuilds that node's read model alone; a
// node without one refuses, naming itself; a node that is not there is
// no responders at once.
func TestRebuildOneNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl := startCluster(ctx, t)
	r, err := cl.c.RebuildViewsOn(ctx, "q-2")
	if err != nil {
		t.Fatal(err)
	}
	for {
		st, err := cl.c.NodeStatus(ctx, "q-2")
		if err != nil {
			t.Fatal(err)
		}
		if st.Rebuild != nil && st.Rebuild.StartedAt.Equal(r.Progress.StartedAt) && st.Rebuild.State == api.RebuildDone {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st, err := cl.c.NodeStatus(ctx, "q-1"); err != nil || st.Rebuild != nil {
		t.Fatalf("q-1 rebuilt too: %+v, %v", st.Rebuild, err)
	}
	msg, err := cl.c.Raw(ctx, api.AdminNodeViewsRebuild("cmd-1"), []byte(`{}`))
	if err != nil || msg.Header.Get(micro.ErrorCodeHeader) != "400" || msg.Header.Get(api.NodeHeader) != "cmd-1" ||
		!strings.Contains(string(msg.Data), "keeps no read model") {
		t.Fatalf("a rebuild of cmd-1: %v %v %s", err, msg.Header, msg.Data)
	}
	start := time.Now()
	if _, err := cl.c.RebuildViewsOn(ctx, "nope"); !errors.Is(err, nats.ErrNoResponders) || time.Since(start) > 2*time.Second {
		t.Fatalf("a rebuild of a node not there: %v after %s", err, time.Since(start))
	}
}

// A node without views still holds its data directory: a second start on
// it is refused (ErrInUse), as the offline tools' check is, until it stops.
func TestCommandsOnlyNodeHoldsItsDirectory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := natstest.Start(t)
	opts := node.Options{Dir: t.TempDir(), NatsURL: srv.URL(), Logger: testkit.Quiet(), Roles: node.Roles{node.RoleCommands}}
	n, err := node.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node.Start(ctx, opts); !errors.Is(err, node.ErrInUse) {
		t.Fatalf("a second node on the directory: %v", err)
	}
	if err := (node.Layout{Dir: opts.Dir}).CheckStopped(); !errors.Is(err, node.ErrInUse) {
		t.Fatalf("CheckStopped while it runs: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := (node.Layout{Dir: opts.Dir}).CheckStopped(); err != nil {
		t.Fatalf("CheckStopped once it stopped: %v", err)
	}
}

// A node with the closer role but not the queries role keeps the read
// model the closer scans, and still answers no query and publishes no
// feed.
func TestCloserWithoutQueriesKeepsViews(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := natstest.Start(t)
	n := runNode(ctx, t, node.Options{Dir: t.TempDir(), NatsURL: srv.URL(), Logger: testkit.Quiet(),
		NodeID: "closer-1", Roles: node.Roles{node.RoleCommands, node.RoleCloser}})
	if n.Store() == nil {
		t.Fatal("a node with the closer role opened no read model")
	}
	nc := srv.Connect(t)
	if _, err := nc.RequestWithContext(ctx, api.QuerySubject(api.QueryStatus), []byte(`{}`)); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("query.status of a node without the queries role: %v", err)
	}
	st, err := client.New(nc).NodeStatus(ctx, "closer-1")
	if err != nil || !st.Views {
		t.Fatalf("closer-1's status: %+v, %v", st, err)
	}
}
