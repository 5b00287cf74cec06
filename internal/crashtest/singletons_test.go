package crashtest

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/events"
)

// takeoverLimit is how soon another node must decide the intake after its
// holder is killed: the default lease TTL of 5 s, about twice.
const takeoverLimit = 10 * time.Second

// Two serve processes with the default flags on one nats-server. The one
// holding the lease "intake" is killed with SIGKILL in the middle of a
// backlog; the other takes the lease and goes on deciding within 10 s,
// and the whole backlog is decided, each command once, in order per
// conversation.
func TestIntakeMovesWhenItsHolderIsKilled(t *testing.T) {
	const commands = 2000
	bin, natsBin := buildBinary(t), buildNATSServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*intakeDecideTimeout)
	defer cancel()
	ns := startNATSServer(t, natsBin)
	var nodes [2]*serveProcess
	for i := range nodes {
		dir := t.TempDir()
		nodes[i] = newServeProcessArgs(t, bin, dir, ns.url, "serve", "--data", dir, "--nats-url", ns.url, "--master-key", sharedMasterKey(t))
		if err := nodes[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	holder, other := intakeHolder(t, nodes)
	nc := connectURLs(t, ns.url, "crashtest-singletons")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	out := watchOutcomes(t, nc)
	b := newBacklog(commands, intakeConversations, rand.New(rand.NewPCG(23, 2)))
	base := streamLastSeq(ctx, t, js, events.StreamName)
	publishBacklog(ctx, t, nc, b)
	killedAt := killHolder(ctx, t, js, holder, base+commands/3)
	resumed := waitStreamMoves(ctx, t, js, killedAt, other)
	t.Logf("the other node decided again %s after the kill", resumed.Round(time.Millisecond))
	if resumed > takeoverLimit {
		t.Errorf("the intake was decided again %s after its holder was killed, want within %s", resumed, takeoverLimit)
	}
	waitIntakeDrained(ctx, t, js, other, out, b)
	if err := other.Stop(); err != nil {
		t.Fatal(err)
	}
	h := mustReadHistory(ctx, t, js)
	checkIntakeHistory(t, h, b)
	t.Logf("%d intake commands decided once; %d outcomes marked duplicate", commands, out.check(t))
}

// intakeHolder is the node whose log says it acquired the lease "intake",
// and the other; exactly one must say so.
func intakeHolder(t *testing.T, nodes [2]*serveProcess) (holder, other *serveProcess) {
	t.Helper()
	deadline := time.Now().Add(takeoverLimit)
	for time.Now().Before(deadline) {
		var holders []int
		for i, n := range nodes {
			if strings.Contains(n.Logs(), `msg="lease acquired" lease=intake`) {
				holders = append(holders, i)
			}
		}
		switch len(holders) {
		case 1:
			return nodes[holders[0]], nodes[1-holders[0]]
		case 2:
			t.Fatal("both nodes acquired the lease intake")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no node acquired the lease intake")
	return nil, nil
}

// killHolder kills holder with SIGKILL, not to start again, once the
// stream has reached seq, and returns the stream's last sequence then.
func killHolder(ctx context.Context, t *testing.T, js jetstream.JetStream, holder *serveProcess, seq uint64) uint64 {
	t.Helper()
	for streamLastSeq(ctx, t, js, events.StreamName) < seq {
		if ctx.Err() != nil {
			t.Fatalf("the stream never reached seq %d:\n%s", seq, tail(holder.Logs()))
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := holder.Kill(); err != nil {
		t.Fatal(err)
	}
	return streamLastSeq(ctx, t, js, events.StreamName)
}

// waitStreamMoves waits until the stream grows past last, and returns how
// long that took.
func waitStreamMoves(ctx context.Context, t *testing.T, js jetstream.JetStream, last uint64, other *serveProcess) time.Duration {
	t.Helper()
	began := time.Now()
	for streamLastSeq(ctx, t, js, events.StreamName) <= last {
		if ctx.Err() != nil || time.Since(began) > 3*takeoverLimit {
			t.Fatalf("nothing decided %s after the holder's kill:\n%s", time.Since(began), tail(other.Logs()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(began)
}
