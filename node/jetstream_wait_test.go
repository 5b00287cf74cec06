package node_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// A node started on a cluster that was just started, before its JetStream
// has a meta leader, waits for one and starts with three replicas, rather
// than failing with "context deadline exceeded" as it did.
func TestStartWaitsForAFormingCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	servers := natstest.StartClusterForming(t, 3, 3)
	n := runNode(ctx, t, node.Options{NatsURL: servers[0].URL(), Dir: t.TempDir(), Replicas: 3,
		Logger: testkit.Quiet(), JetStreamWait: 45 * time.Second})
	if n.Log() == nil {
		t.Fatal("the node started without its event log")
	}
}

// A cluster without a quorum never answers: Start gives up after
// JetStreamWait with ErrJetStreamUnavailable and a sentence saying what to
// check, and leaves nothing running.
func TestStartWithoutQuorumSaysJetStreamIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	servers := natstest.StartClusterForming(t, 3, 1)
	began := time.Now()
	n, err := node.Start(ctx, node.Options{NatsURL: servers[0].URL(), Dir: t.TempDir(), Replicas: 3,
		Logger: testkit.Quiet(), JetStreamWait: 2 * time.Second})
	if err == nil {
		_ = n.Close()
		t.Fatal("a node started on one server of three, without a quorum")
	}
	if !errors.Is(err, node.ErrJetStreamUnavailable) {
		t.Fatalf("Start without a quorum: %v, want ErrJetStreamUnavailable", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Fatalf("Start gave up after %s, want about JetStreamWait (2s)", took)
	}
	t.Logf("the error a user reads: %v", err)
}
