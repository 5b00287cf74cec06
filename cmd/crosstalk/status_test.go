package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// 'crosstalk status' and 'views rebuild' address one node by its id, as
// the admin under real identities (the admin account's import of
// crosstalk.admin.> covers the node's own subjects); a node that is not
// there is an error at once, not a timeout.
func TestStatusAndRebuildOfOneNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, c, stop := serveUnderIdentities(t, "--data", t.TempDir(), "--node-id", "cli-1")
	defer stop()
	admin := append([]string{"--nats-url", url}, credFlags(t, c, natsconf.PrincipalAdmin)...)
	cli := func(args ...string) (string, error) {
		out, errOut, err := runCLI(ctx, append(args, admin...)...)
		return out + errOut, err
	}
	for _, args := range [][]string{{"status"}, {"status", "--node", "cli-1"}} {
		out, err := cli(args...)
		if err != nil || !strings.Contains(out, "node cli-1, roles commands,queries,closer,intake") ||
			!strings.Contains(out, "nodes (1):") {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	if out, err := cli("views", "rebuild", "--node", "cli-1", "--interval", "20ms"); err != nil ||
		!strings.Contains(out, "rebuilt the read model") {
		t.Fatalf("views rebuild --node cli-1: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"status", "--node", "nope"}, {"views", "rebuild", "--node", "nope"}} {
		start := time.Now()
		_, err := cli(args...)
		if err == nil || !strings.Contains(err.Error(), `no node "nope" answers`) || time.Since(start) > 5*time.Second {
			t.Fatalf("%v: %v after %s", args, err, time.Since(start))
		}
	}
}

// serve refuses an unknown role, no role, and a malformed node id, naming
// what is wrong, before it starts anything.
func TestServeRefusesBadRolesAndNodeID(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range []struct{ flag, value, says string }{
		{"--roles", "commands,reads", `unknown role "reads"; roles are commands,queries,closer,intake`},
		{"--roles", " , ", "names no role"},
		{"--node-id", "Node_1", `bad node id "Node_1"`},
		{"--node-id", "-x", `bad node id "-x"`},
	} {
		_, _, err := runCLI(ctx, "serve", "--data", t.TempDir(), "--listen", testkit.FreeAddr(t), c.flag, c.value)
		if err == nil || !strings.Contains(err.Error(), c.flag) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("serve %s %q: %v", c.flag, c.value, err)
		}
	}
}
