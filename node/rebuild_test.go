package node_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// rebuildAndWait rebuilds the node's views online and waits until the
// status says the rebuild is done.
func rebuildAndWait(ctx context.Context, t *testing.T, c *client.Client) api.RebuildProgress {
	t.Helper()
	if _, err := c.RebuildViews(ctx); err != nil {
		t.Fatal(err)
	}
	for ctx.Err() == nil {
		var st api.Status
		if err := c.Query(ctx, api.QueryStatus, api.QueryBase{}, &st); err != nil {
			t.Fatal(err)
		}
		if st.Rebuild != nil && st.Rebuild.State != api.RebuildRunning {
			if st.Rebuild.State != api.RebuildDone {
				t.Fatalf("the rebuild: %+v", st.Rebuild)
			}
			return *st.Rebuild
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal(ctx.Err())
	return api.RebuildProgress{}
}

// entries lists the data directory's names, but for the JetStream files,
// the signing key and the node id.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if n := e.Name(); n != "jetstream" && n != "signing.key" && n != "master.key" && n != "node-id" {
			names = append(names, n)
		}
	}
	return names
}

// An online rebuild replaces the views in the data directory: the rebuilt
// store serves from the second directory until the node stops, the next
// start moves it into place, and a node stopped mid-rebuild discards it.
// The directory is in use while a rebuilt store serves from either place.
func TestRebuildViewsOnANode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	n, r, stop := startWithConversation(ctx, t, dir)
	c := client.New(n.Conn())
	if p := rebuildAndWait(ctx, t, c); p.Applied < r.StreamSeq {
		t.Fatalf("rebuilt %+v, want seq %d", p, r.StreamSeq)
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"views.current", "views.rebuild"}) {
		t.Fatalf("after a rebuild the data directory holds %v", got)
	}
	checkInUse(ctx, t, dir)
	rebuildAndWait(ctx, t, c) // from views.rebuild back into views
	if got := entries(t, dir); !slices.Equal(got, []string{"views", "views.current"}) {
		t.Fatalf("after a second rebuild the data directory holds %v", got)
	}
	if n.Store().Checkpoint() < r.StreamSeq {
		t.Fatal("the node's store is not the rebuilt one")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	n, err := node.Start(ctx, node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"views"}) {
		t.Fatalf("a start settles the rebuilt views into place, leaving %v", got)
	}
	stop, err = n.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c = client.New(n.Conn())
	var conv api.ConversationView
	if err := c.Query(ctx, api.QueryConversation, map[string]any{"conversation_id": r.ConversationID}, &conv); err != nil || conv.Version != 1 {
		t.Fatalf("the rebuilt views after a restart: %+v, %v", conv, err)
	}
	if _, err := c.RebuildViews(ctx); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil { // mid-rebuild, or just after it
		t.Fatal(err)
	}
	n, err = node.Start(ctx, node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if got := entries(t, dir); !slices.Equal(got, []string{"views"}) {
		t.Fatalf("a restart mid-rebuild leaves %v, not one read model", got)
	}
	if cp := n.Store().Checkpoint(); cp < r.StreamSeq {
		t.Fatalf("the views after a restart mid-rebuild are at seq %d, want %d", cp, r.StreamSeq)
	}
}
