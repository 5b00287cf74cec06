package node_test

import (
	"context"
	"testing"

	"github.com/crosstalk-dev/crosstalk/node"
)

// runNode starts a node with opts and runs it in the background until the
// test ends; then it stops the node, and a failure to stop fails the test.
func runNode(ctx context.Context, t testing.TB, opts node.Options) *node.Node {
	t.Helper()
	n, err := node.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := n.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	return n
}
