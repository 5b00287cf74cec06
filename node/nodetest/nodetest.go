// Package nodetest runs a crosstalk node for a test: started, serving in
// the background, and stopped (its error reported) when the test ends.
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
			t.Errorf("node: %v", err)
		}
	})
	return n
}
