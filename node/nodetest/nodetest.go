// Package nodetest runs a crosstalk node for a test: started, serving in
// the background, and stopped (its error reported) when the test ends.
// Live adds what the stories of several packages do with such a node
// (commands with fresh ids, what a viewer reads, what the keys open), and
// IdentityOptions the node under a generated identity configuration.
package nodetest

import (
	"context"
	"testing"

	"github.com/crosstalk-dev/crosstalk/node"
)

// Run starts a node with opts and serves it until the test ends; a failed
// start fails the test, and an error at the stop is reported.
func Run(ctx context.Context, t testing.TB, opts node.Options) *node.Node {
	t.Helper()
	return Start(ctx, t, opts).Node
}
