package node_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// A node started as `serve --sync-always` commits concurrent commands in
// shared batches: its stream allows atomic publish, and of 200 concurrent
// conversation starts some replies name an event committed in a batch.
// Every reply names the event of its own command.
func TestSyncAlwaysCommitsCommandsInBatches(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, err := node.Start(ctx, node.Options{Dir: t.TempDir(), Listen: "127.0.0.1:0", Logger: testkit.Quiet(), SyncAlways: true})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := n.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	stream := n.Log().Stream()
	if !stream.CachedInfo().Config.AllowAtomicPublish {
		t.Fatal("stream without allow_atomic under SyncAlways")
	}
	c := client.New(n.Conn())
	var wg sync.WaitGroup
	var mu sync.Mutex
	batched := 0
	for i := range 200 {
		wg.Go(func() {
			id := uuid.NewString()
			r, err := c.Command(ctx, "instagram", "conversation.start", map[string]any{
				"command_id": id, "actor": fmt.Sprintf("instagram:a%d", i), "participants": []string{"instagram:bob"}})
			if err != nil {
				t.Error(err)
				return
			}
			m, err := stream.GetMsg(ctx, r.StreamSeq)
			if err != nil || m.Header.Get("Nats-Msg-Id") != "instagram."+id {
				t.Errorf("reply seq %d: %v, msg id %q; want the command's event", r.StreamSeq, err, m.Header.Get("Nats-Msg-Id"))
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if m.Header.Get("Nats-Batch-Id") != "" {
				batched++
			}
		})
	}
	wg.Wait()
	t.Logf("%d of 200 commands committed in batches", batched)
	if batched == 0 {
		t.Fatal("no command was committed in a batch")
	}
}
