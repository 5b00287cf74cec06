package admin

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/node/nodetest"
)

// With two query nodes, crosstalk.query.status is answered by either, and
// only the one that took the rebuild has it: views rebuild without --node
// follows the node its reply names, and so sees every rebuild to its end.
// Following whichever node answers the status stopped about every other
// time with "the service reports no rebuild" (found by the guides' run).
func TestRebuildFollowsTheNodeThatRebuilds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := natstest.Start(t)
	for _, id := range []string{"q-a", "q-b"} {
		nodetest.Start(ctx, t, node.Options{Dir: t.TempDir(), NatsURL: srv.URL(), NodeID: id, Logger: testkit.Quiet()})
	}
	for i := range 8 {
		var out, errOut bytes.Buffer
		err := RebuildViews(ctx, srv.URL(), node.Credentials{}, RebuildOptions{Interval: 5 * time.Millisecond}, &out, &errOut)
		if err != nil || !strings.Contains(out.String(), "rebuilt the read model") {
			t.Fatalf("rebuild %d: %v\n%s%s", i, err, out.String(), errOut.String())
		}
	}
}
