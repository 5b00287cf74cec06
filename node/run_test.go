package node_test

import (
	"context"
	"testing"

	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/node/nodetest"
)

// runNode starts a node with opts and runs it in the background until the
// test ends (node/nodetest).
func runNode(ctx context.Context, t testing.TB, opts node.Options) *node.Node {
	return nodetest.Run(ctx, t, opts)
}
