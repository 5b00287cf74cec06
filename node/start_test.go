package node_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// startWithConversation starts a node on dir (embedded NATS on a random
// port) in the background, starts one conversation through the client and
// waits until the views applied it. The caller calls stop.
func startWithConversation(ctx context.Context, t *testing.T, dir string, opts ...func(*node.Options)) (n *node.Node, r api.CommandReply, stop func() error) {
	t.Helper()
	o := node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet()}
	for _, f := range opts {
		f(&o)
	}
	n, err := node.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	stop, err = n.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err = client.New(n.Conn()).Command(ctx, "instagram", "conversation.start", map[string]any{
		"command_id": uuid.NewString(), "actor": "instagram:alice", "participants": []string{"instagram:bob"},
	})
	if err == nil {
		err = n.Store().WaitFor(ctx, r.StreamSeq)
	}
	if err != nil {
		t.Fatal(errors.Join(err, stop()))
	}
	return n, r, stop
}
