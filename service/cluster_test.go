package service_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/crosstalk-dev/crosstalk/clock"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/broker"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

// clusterFull is set by CROSSTALK_CLUSTER_FULL=1 for the bigger runs whose
// figures docs/reliability.md quotes:
//
//	CROSSTALK_CLUSTER_FULL=1 go test -run TestCluster -timeout 20m -v ./service
var clusterFull = os.Getenv("CROSSTALK_CLUSTER_FULL") == "1"

// clusterNode is one crosstalk service on a JetStream cluster (or a single
// server), connected to every server's URL and reconnecting for ever, as a
// deployment would run it.
type clusterNode struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	log   *eventlog.Log
	store *projector.Store
	svc   *service.Service
	urls  string
}

func startClusterNode(t *testing.T, urls []string, replicas int) *clusterNode {
	t.Helper()
	ctx := context.Background()
	n := &clusterNode{urls: strings.Join(urls, ",")}
	n.nc = connectAll(t, n.urls, "crosstalk-service")
	var err error
	if n.js, err = jetstream.New(n.nc); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	if n.log, err = eventlog.Open(ctx, n.js, eventlog.Options{Replicas: replicas, Logger: logger}); err != nil {
		t.Fatal(err)
	}
	if got := n.log.Stream().CachedInfo().Config.Replicas; got != replicas {
		t.Fatalf("stream has %d replicas, want %d", got, replicas)
	}
	if n.store, err = projector.Open(projector.Options{Dir: t.TempDir(), Logger: logger}); err != nil {
		t.Fatal(err)
	}
	n.svc = service.New(n.nc, n.log, n.store, service.Options{Clock: clock.NewSim(seedStart), Logger: logger,
		PolicyCheckInterval: 50 * time.Millisecond})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.svc.Run(rctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("service run: %v", err)
		}
		if err := n.store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	select {
	case <-n.svc.Ready():
	case err := <-done:
		t.Fatalf("service stopped before ready: %v", err)
	}
	data, err := policies.Read("v1-2020-cross-app.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.New(n.nc).PublishPolicy(ctx, uuid.NewString(), data); err != nil {
		t.Fatalf("publish v1: %v", err)
	}
	return n
}

// connectAll connects to any of urls and reconnects for ever, quickly.
func connectAll(t *testing.T, urls, name string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(urls, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatalf("connect to %s: %v", urls, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func clusterURLs(servers []*natstest.Server) []string {
	urls := make([]string, len(servers))
	for i, s := range servers {
		urls[i] = s.URL()
	}
	return urls
}

// startConversations starts n conversations between alice and bob.
func (n *clusterNode) startConversations(t *testing.T, count int) []string {
	t.Helper()
	c := client.New(n.nc)
	ids := make([]string, count)
	for i := range ids {
		r, err := c.Command(context.Background(), string(alice.App()), "conversation.start",
			map[string]any{"command_id": uuid.NewString(), "actor": alice, "participants": []events.Account{bob}})
		if err != nil {
			t.Fatalf("start conversation: %v", err)
		}
		ids[i] = r.ConversationID
	}
	return ids
}

// sendLoad is producers sending messages to random conversations; each
// retries a command (same command id) on no answer, 5xx or 409 until it
// is acknowledged.
type sendLoad struct {
	convs     []string
	timeout   time.Duration
	acked     atomic.Int64
	mu        sync.Mutex
	replies   map[string]api.CommandReply // command id -> acknowledgement
	latencies []time.Duration             // first attempt to acknowledgement
	retries   int
	lastAck   time.Time
	maxGap    time.Duration // longest time without any acknowledgement
	failures  []error
	slowest   time.Duration     // longest single attempt, answered or not
	refusals  map[string]int    // error code -> attempts answered with it
	refused   map[string]string // error code -> one message
}

func newSendLoad(convs []string, timeout time.Duration) *sendLoad {
	return &sendLoad{convs: convs, timeout: timeout, replies: map[string]api.CommandReply{}, lastAck: time.Now(),
		refusals: map[string]int{}, refused: map[string]string{}}
}

// run runs producers until total commands are acknowledged.
func (l *sendLoad) run(t *testing.T, urls string, producers int, total int64) {
	t.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	for p := range producers {
		c := client.New(connectAll(t, urls, fmt.Sprintf("producer-%d", p)))
		rng := rand.New(rand.NewPCG(uint64(p), 11))
		wg.Go(func() {
			for next.Add(1) <= total {
				if err := l.send(c, rng); err != nil {
					l.mu.Lock()
					l.failures = append(l.failures, err)
					l.mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
}

func (l *sendLoad) send(c *client.Client, rng *rand.Rand) error {
	actor := []events.Account{alice, bob}[rng.IntN(2)]
	id := uuid.NewString()
	body := map[string]any{"command_id": id, "actor": actor, "conversation_id": l.convs[rng.IntN(len(l.convs))], "text": "hello"}
	began := time.Now()
	deadline := began.Add(time.Minute)
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
		sent := time.Now()
		r, err := c.Command(ctx, string(actor.App()), "message.send", body)
		cancel()
		l.attempted(time.Since(sent), err)
		if err == nil {
			l.ack(id, r, time.Since(began), attempt)
			return nil
		}
		var cerr *client.Error
		if errors.As(err, &cerr) && !strings.HasPrefix(cerr.Status, "5") && cerr.Code != "conflict" {
			return fmt.Errorf("message.send %s: %w", id, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("message.send %s: no acknowledgement in %d attempts over a minute: %w", id, attempt, err)
		}
		time.Sleep(time.Duration(10+rng.IntN(40)) * time.Millisecond)
	}
}

// attempted notes how long one attempt took and how it was refused.
func (l *sendLoad) attempted(took time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.slowest = max(l.slowest, took)
	if cerr := (*client.Error)(nil); errors.As(err, &cerr) {
		l.refusals[cerr.Status+" "+cerr.Code]++
		l.refused[cerr.Status+" "+cerr.Code] = cerr.Message
	} else if err != nil {
		l.refusals["no answer: "+err.Error()]++
	}
}

func (l *sendLoad) ack(id string, r api.CommandReply, latency time.Duration, attempts int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.maxGap = max(l.maxGap, now.Sub(l.lastAck))
	l.lastAck = now
	l.replies[id] = r
	l.latencies = append(l.latencies, latency)
	l.retries += attempts - 1
	l.acked.Add(1)
}

// percentile of the acknowledgement latencies, q in [0, 1].
func (l *sendLoad) percentile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := slices.Clone(l.latencies)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// checkExactlyOnce reads the whole stream in order (from the stream
// leader, not a possibly lagging replica) and checks that every
// acknowledged command has exactly one event, the one its reply names, and
// that the audit finds no break.
func checkExactlyOnce(t *testing.T, log *eventlog.Log, replies map[string]api.CommandReply) uint64 {
	t.Helper()
	var last uint64
	err := askAgain(time.Minute, func(ctx context.Context) (err error) {
		last, err = log.LastSeq(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	causes := map[string]int{}
	at := map[uint64]events.Event{}
	stop := errors.New("read to the end")
	err = log.Read(ctx, 1, 1000, func(batch []events.Message) error {
		for _, m := range batch {
			e, err := events.Decode(m.Data)
			if err != nil {
				return fmt.Errorf("seq %d: %w", m.Seq, err)
			}
			causes[e.CausationID]++
			at[m.Seq] = e
			if m.Seq >= last {
				return stop
			}
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("read the stream to seq %d: %v", last, err)
	}
	bad := 0
	for id, r := range replies {
		e := at[r.StreamSeq]
		if causes[id] != 1 || e.CausationID != id || e.ID != r.EventID {
			if bad++; bad <= 10 {
				t.Errorf("command %s: %d events; its reply names seq %d, event %s, the stream holds event %s of command %s there",
					id, causes[id], r.StreamSeq, r.EventID, e.ID, e.CausationID)
			}
		}
	}
	rep, err := audit.Verify(ctx, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("audit: %d breaks, first %+v", rep.BreaksTotal, rep.Breaks[0])
	}
	return last
}

// The stream's leader dies in the middle of a load on an R3 stream: every
// acknowledged command survives exactly once, and after the election the
// service carries on, for commands and queries.
func TestClusterLeaderLossLosesNothing(t *testing.T) {
	total := int64(600)
	if clusterFull {
		total = 5000
	}
	servers := natstest.StartCluster(t, 3)
	n := startClusterNode(t, clusterURLs(servers), 3)
	convs := n.startConversations(t, 16)
	load := newSendLoad(convs, 2*time.Second)

	leader := streamLeader(t, n.js)
	killed := make(chan time.Time, 1)
	loadDone := make(chan struct{})
	go func() {
		for load.acked.Load() < total/3 {
			select {
			case <-loadDone:
				return
			case <-time.After(time.Millisecond):
			}
		}
		for _, s := range servers {
			if s.NATS.Name() == leader {
				s.Shutdown()
			}
		}
		killed <- time.Now()
	}()
	began := time.Now()
	load.run(t, n.urls, 8, total)
	close(loadDone)
	elapsed := time.Since(began)
	if len(load.failures) > 0 {
		t.Fatalf("%d producers failed, first: %v", len(load.failures), load.failures[0])
	}
	var killedAt time.Time
	select {
	case killedAt = <-killed:
	case <-time.After(10 * time.Second):
		t.Fatal("the leader was not shut down")
	}
	newLeader := streamLeader(t, n.js)
	if newLeader == leader {
		t.Fatalf("stream leader is still %s after it was shut down", leader)
	}

	// After the election, new commands are acknowledged at the first try.
	c := client.New(n.nc)
	replies := maps.Clone(load.replies)
	for i := range 20 {
		id := uuid.NewString()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r, err := c.Command(ctx, string(alice.App()), "message.send", map[string]any{"command_id": id,
			"actor": alice, "conversation_id": convs[i%len(convs)], "text": "after the election"})
		cancel()
		if err != nil {
			t.Fatalf("send %d after the election: %v", i, err)
		}
		replies[id] = r
	}
	last := checkExactlyOnce(t, n.log, replies)

	// And the read model follows the new leader up to the last event. Its
	// consumer notices the lost leader only by missed heartbeats, so this
	// can take some seconds (see docs/reliability.md).
	caughtUp := waitCaughtUp(t, c, convs[0], last, 30*time.Second)
	t.Logf("R3: %d sends acknowledged in %s by 8 producers (%d retries); leader %s shut down %s into the load, %s took over; "+
		"longest time without an acknowledgement %s; latency p50 %s p99 %s; the read model reached seq %d %s after the shutdown",
		load.acked.Load(), elapsed.Round(time.Millisecond), load.retries, leader, killedAt.Sub(began).Round(time.Millisecond),
		newLeader, load.maxGap.Round(time.Millisecond), load.percentile(0.5).Round(10*time.Microsecond),
		load.percentile(0.99).Round(10*time.Microsecond), last, caughtUp.Sub(killedAt).Round(time.Millisecond))
}

// waitCaughtUp asks with min_seq until the read model has applied seq, for
// at most limit, and returns when it had.
func waitCaughtUp(t *testing.T, c *client.Client, conv string, seq uint64, limit time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var view api.ConversationView
		err := c.Query(ctx, "conversation", map[string]any{"conversation_id": conv, "min_seq": seq}, &view)
		cancel()
		switch {
		case err == nil:
			return time.Now()
		case client.CodeOf(err) != "not_caught_up" || time.Now().After(deadline):
			t.Fatalf("query with min_seq %d: %v", seq, err)
		}
	}
}

// The same load at R1 (one server, JetStream's default fsync every two
// minutes), R1 with SyncAlways (what serve --sync-always runs) and R3 (a
// three-server cluster):
// acknowledgement latency, which is mostly the JetStream append, and
// throughput. 8 producers over 64 conversations, so appends to different
// conversations run in parallel.
func TestClusterLatencyR1VsR3(t *testing.T) {
	total := int64(400)
	if clusterFull {
		total = 2000
	}
	const producers = 8
	measure := func(name string, urls []string, replicas int) string {
		n := startClusterNode(t, urls, replicas)
		load := newSendLoad(n.startConversations(t, 64), 5*time.Second)
		began := time.Now()
		load.run(t, n.urls, producers, total)
		elapsed := time.Since(began)
		if len(load.failures) > 0 {
			t.Fatalf("%s: %d producers failed, first: %v", name, len(load.failures), load.failures[0])
		}
		checkExactlyOnce(t, n.log, load.replies)
		return fmt.Sprintf("%s: %d sends by %d producers in %s: %.0f sends/s, latency p50 %s p99 %s (%d retries)",
			name, total, producers, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(),
			load.percentile(0.5).Round(10*time.Microsecond), load.percentile(0.99).Round(10*time.Microsecond), load.retries)
	}
	r1 := measure("R1", []string{natstest.Start(t).URL()}, 1)
	synced, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", JetStreamDir: t.TempDir(), SyncAlways: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { synced.Shutdown(); synced.WaitForShutdown() })
	r1sync := measure("R1 sync-always", []string{synced.ClientURL()}, 1)
	r3 := measure("R3", clusterURLs(natstest.StartCluster(t, 3)), 3)
	t.Log(r1)
	t.Log(r1sync)
	t.Log(r3)
}
