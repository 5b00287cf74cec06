package natstest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// clusterReadyTimeout bounds how long StartCluster waits for JetStream to
// elect a meta leader that knows every server.
const clusterReadyTimeout = 30 * time.Second

// StartCluster runs n JetStream-enabled nats-servers clustered on loopback,
// each with its store in its own t.TempDir, waits until their JetStream
// cluster has a leader that knows all n of them, and shuts them down when
// the test ends. Connect to any of them; streams with Replicas up to n work.
func StartCluster(t testing.TB, n int) []*Server {
	t.Helper()
	servers := StartClusterForming(t, n, n)
	waitForMetaLeader(t, servers)
	return servers
}

// StartClusterForming starts the first started of a cluster of n servers
// and returns them at once, before their JetStream elects a meta leader
// (if started is a majority of n, it will within seconds; if not, never):
// what a node finds on a cluster that was just started.
func StartClusterForming(t testing.TB, n, started int) []*Server {
	t.Helper()
	ports := testkit.FreePorts(t, n)
	routes := make([]string, n)
	for i, p := range ports {
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", p)
	}
	servers := make([]*Server, started)
	for i := range servers {
		servers[i] = startWith(t, t.TempDir(), server.RANDOM_PORT, func(o *server.Options) {
			o.ServerName = fmt.Sprintf("natstest-%d", i+1)
			o.Cluster = server.ClusterOpts{Name: "natstest", Host: "127.0.0.1", Port: ports[i]}
			o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		})
	}
	return servers
}

func waitForMetaLeader(t testing.TB, servers []*Server) {
	t.Helper()
	deadline := time.Now().Add(clusterReadyTimeout)
	for time.Now().Before(deadline) {
		for _, s := range servers {
			if s.NATS.JetStreamIsLeader() && len(s.NATS.JetStreamClusterPeers()) == len(servers) {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("natstest: no JetStream meta leader with %d peers after %s", len(servers), clusterReadyTimeout)
}
