package historytest

import (
	"context"
	"github.com/crosstalk-dev/crosstalk/clock"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/service"
)

// SeedClock is where the stories start: before policy version 1's effect.
func SeedClock() *clock.Sim {
	return clock.NewSim(time.Date(2020, 10, 1, 12, 0, 0, 0, time.UTC))
}

// StartNode starts crosstalk as serve does (node.Start) on an in-process
// nats-server and a fresh data directory, on the SeedClock; it checks
// quickly for due policies and rescans soon (like the demo), returns once
// the service is ready, and stops it when the test ends.
func StartNode(t *testing.T) *Node {
	t.Helper()
	return startNode(t, 0, false)
}

// StartUnsealedNode is StartNode writing message content in clear
// (node.Options.Unsealed): the same history, byte for byte, in every run,
// for golden files.
func StartUnsealedNode(t *testing.T) *Node {
	t.Helper()
	return startNode(t, 0, true)
}

// StartPartitionedNode is StartNode on a log of n partitions
// (node.Options.Partitions; 0 or 1: the single stream).
func StartPartitionedNode(t *testing.T, n int) *Node {
	t.Helper()
	return startNode(t, n, false)
}

// startNode starts the node of StartNode on n partitions, unsealed or not.
func startNode(t *testing.T, n int, unsealed bool) *Node {
	t.Helper()
	srv := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	clock := SeedClock()
	nd, err := node.Start(ctx, node.Options{Dir: t.TempDir(), NatsURL: srv.URL(), Name: t.Name(), Logger: testkit.Quiet(), Partitions: n, Unsealed: unsealed,
		Service: service.Options{Clock: clock, PolicyCheckInterval: 10 * time.Millisecond, CloseGrace: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := nd.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stop node: %v", err)
		}
	})
	return &Node{T: t, Ctx: ctx, Log: nd.Log(), Rejections: nd.Rejections(), Store: nd.Store(),
		C: client.New(nd.Conn()), Clock: clock}
}
