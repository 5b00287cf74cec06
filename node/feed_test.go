package node_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// startFeed starts a node on dir and subscribes to instagram:bob's feed.
func startFeed(ctx context.Context, t *testing.T, dir string, disable bool) (*node.Node, chan *nats.Msg, func() error) {
	t.Helper()
	n, err := node.Start(ctx, node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet(), DisableFeeds: disable})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := n.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *nats.Msg, 16)
	if _, err := n.Conn().ChanSubscribe(api.FeedSubject("instagram:bob"), ch); err != nil {
		t.Fatal(err)
	}
	return n, ch, stop
}

// A node publishes the live feeds by default, and none with DisableFeeds.
func TestNodePublishesFeeds(t *testing.T) {
	ctx, dir := context.Background(), t.TempDir()
	for _, disable := range []bool{false, true} {
		n, ch, stop := startFeed(ctx, t, dir, disable)
		r, err := client.New(n.Conn()).Command(ctx, "instagram", "conversation.start", map[string]any{
			"command_id": uuid.NewString(), "actor": "instagram:alice", "participants": []string{"instagram:bob"},
		})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-ch:
			var note api.Notification
			if err := json.Unmarshal(m.Data, &note); err != nil || disable ||
				note.Kind != api.NoteConversationStarted || note.Seq != r.StreamSeq || note.N != 1 {
				t.Errorf("feeds disabled=%v: %s (%v)", disable, m.Data, err)
			}
		case <-time.After(3 * time.Second):
			if !disable {
				t.Error("no notification on instagram:bob's feed")
			}
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
}
