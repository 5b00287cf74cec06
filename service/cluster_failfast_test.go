package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/service"
)

// failFastSlack is what an answer may take beyond AppendTimeout: the reply,
// a slow scheduler on a loaded test machine, the race detector.
const failFastSlack = 1500 * time.Millisecond

// retrySentence is what a 503 unavailable tells a producer to do.
const retrySentence = "retry it with the same command_id"

// The stream's leader dies under appends: every command is answered within
// about AppendTimeout (acknowledged, or 503 unavailable saying to retry with
// the same command id) instead of waiting the whole CommandTimeout, and
// every acknowledged command is stored once. Then the cluster loses its
// quorum, so no leader can be elected: a command is answered 503
// unavailable within the bound.
//
// The service and the producers are connected to the servers that survive,
// so what the test sees is the log without a leader, not a lost connection
// (TestClusterLeaderLossLosesNothing covers that).
func TestClusterLeaderLossFailsFast(t *testing.T) {
	const total = 600
	servers := natstest.StartCluster(t, 3)
	js := servers[0].JetStream(t)
	if _, err := eventlog.Open(context.Background(), js, eventlog.Options{Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	leader := streamLeader(t, js)
	var survivors []*natstest.Server
	for _, s := range servers {
		if s.NATS.Name() != leader {
			survivors = append(survivors, s)
		}
	}
	n := startClusterNode(t, clusterURLs(survivors), 3)
	convs := n.startConversations(t, 16)
	load := newSendLoad(convs, 4*service.DefaultAppendTimeout)

	killed := make(chan time.Time, 1)
	go func() {
		for load.acked.Load() < total/3 {
			time.Sleep(time.Millisecond)
		}
		for _, s := range servers {
			if s.NATS.Name() == leader {
				s.Shutdown()
			}
		}
		killed <- time.Now()
	}()
	load.run(t, n.urls, 8, total)
	if len(load.failures) > 0 {
		t.Fatalf("%d producers failed, first: %v", len(load.failures), load.failures[0])
	}
	<-killed
	if bound := service.DefaultAppendTimeout + failFastSlack; load.slowest > bound {
		t.Errorf("an attempt took %s, more than AppendTimeout %s and %s of slack; refusals %v",
			load.slowest, service.DefaultAppendTimeout, failFastSlack, load.refusals)
	}
	for code, msg := range load.refused {
		if strings.HasPrefix(code, "5") && (code != "503 unavailable" || !strings.Contains(msg, retrySentence)) {
			t.Errorf("answered %s %q; a command that meets no leader is answered 503 unavailable saying %q",
				code, msg, retrySentence)
		}
	}
	checkExactlyOnce(t, n.log, load.replies)
	t.Logf("leader %s shut down under %d sends: slowest attempt %s, longest time without an acknowledgement %s, %d retries, refusals %v",
		leader, total, load.slowest.Round(time.Millisecond), load.maxGap.Round(time.Millisecond), load.retries, load.refusals)

	loseQuorum(t, n, survivors)
	c := client.New(n.nc)
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 4*service.DefaultAppendTimeout)
	defer cancel()
	_, err := c.Command(ctx, string(alice.App()), "message.send", map[string]any{"command_id": uuid.NewString(),
		"actor": alice, "conversation_id": convs[0], "text": "no quorum"})
	took := time.Since(began)
	var cerr *client.Error
	if !errors.As(err, &cerr) || cerr.Status != "503" || cerr.Code != "unavailable" || !strings.Contains(cerr.Message, retrySentence) {
		t.Fatalf("send without a quorum = %v; want 503 unavailable saying %q", err, retrySentence)
	}
	if took > service.DefaultAppendTimeout+failFastSlack {
		t.Errorf("send without a quorum answered after %s, want about %s", took, service.DefaultAppendTimeout)
	}
	t.Logf("without a quorum: answered %s %s after %s: %s", cerr.Status, cerr.Code, took.Round(time.Millisecond), cerr.Message)
}

// loseQuorum shuts down the survivor n is not connected to, leaving one
// server of three: no stream leader can be elected.
func loseQuorum(t *testing.T, n *clusterNode, survivors []*natstest.Server) {
	t.Helper()
	connected := n.nc.ConnectedServerName()
	for _, s := range survivors {
		if s.NATS.Name() != connected {
			s.Shutdown()
			return
		}
	}
	t.Fatalf("the service is connected to %q, none of the survivors", connected)
}
