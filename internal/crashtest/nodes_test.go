package crashtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/lease"
	"github.com/crosstalk-dev/crosstalk/node"
)

// clusterServeFlags are the flags every serve of TestClusterOfNodes runs
// with besides its own --data, --nats-url, --node-id and --roles. Running
// it on a partitioned log is one change here: "--replicas 3 --partitions 4".
const clusterServeFlags = "--replicas 3 --partitions 4"

// nodesConfig sizes TestClusterOfNodes.
type nodesConfig struct {
	Commands  int // request/reply commands answered, at least
	Producers int
	Intake    int // intake commands, over intakeConversations
	Probes    int // read-your-writes probes
	Flips     int // alternating allow/deny policies, each followed by a start
}

// nodesConfigFromEnv is the CI size by default, the long run with
// CROSSTALK_CRASH_FULL=1.
func nodesConfigFromEnv() nodesConfig {
	if os.Getenv("CROSSTALK_CRASH_FULL") == "1" {
		return nodesConfig{Commands: 10_000, Producers: 8, Intake: 5000, Probes: 100, Flips: 20}
	}
	return nodesConfig{Commands: 1500, Producers: 4, Intake: 1000, Probes: 100, Flips: 20}
}

// clusterNode is one serve of the cluster, with its own data directory
// and node id.
type clusterNode struct {
	*serveProcess
	id    string
	views bool // it keeps a read model
}

// startClusterNode runs serve --nats-url urls --node-id id, with --roles
// roles unless roles is "" (the default: all), and waits until it is ready.
func startClusterNode(t *testing.T, bin, urls, id, roles string) *clusterNode {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"serve", "--data", dir, "--nats-url", urls, "--node-id", id, "--master-key", sharedMasterKey(t)},
		strings.Fields(clusterServeFlags)...)
	if roles != "" {
		args = append(args, "--roles", roles)
	}
	n := &clusterNode{serveProcess: newServeProcessArgs(t, bin, dir, urls, args...), id: id, views: roles == ""}
	if err := n.Start(); err != nil {
		t.Fatalf("node %s: %v", id, err)
	}
	return n
}

// TestClusterOfNodes is issue 23's real-process test: three nats-server
// processes, three serve nodes with --replicas 3 (one --roles commands),
// retrying producers, intake publishers and read-your-writes probes. Mid-load
// a policy denying cross-app chat is published, the node holding the closer
// and intake leases is killed with SIGKILL once the closer has begun (and
// started again once the leases moved), and the stream leader's
// nats-server is killed with SIGKILL (not started again). Then twenty
// alternating allow/deny policies are each followed at once by a cross-app
// start. Every acknowledged command is in the stream once; intake commands
// are decided once and in order; the policy closed every cross-app
// conversation once; each probe's query with after saw its write; each
// start was decided by the policy just before it; audit verify passes on
// every node's views.
func TestClusterOfNodes(t *testing.T) {
	cfg := nodesConfigFromEnv()
	began := time.Now()
	bin, natsBin := buildBinary(t), buildNATSServer(t)
	built := time.Since(began)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	servers := startNATSCluster(t, natsBin, 3)
	urls := clusterURLs(servers)
	adminNC := connectURLs(t, urls, "crashtest-admin")
	js, err := jetstream.New(adminNC)
	if err != nil {
		t.Fatal(err)
	}
	// ct-a starts alone and takes both leases, so that its kill moves both.
	a := startClusterNode(t, bin, urls, "ct-a", "")
	waitLeases(ctx, t, js, func(closer, intake string) bool { return closer == a.id && intake == a.id })
	b := startClusterNode(t, bin, urls, "ct-b", "")
	c := startClusterNode(t, bin, urls, "ct-c", "commands")
	nodes := []*clusterNode{a, b, c}
	t.Cleanup(func() { keepLogs(t, nodes) })

	l := newLoad(40, 10, rand.New(rand.NewPCG(23, 1)))
	v1, err := policies.Read("v1-2020-cross-app.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.publish(ctx, client.New(adminNC), v1, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	out := watchOutcomes(t, adminNC)
	run := runNodesLoad(ctx, t, cfg, l, servers, js, a)
	waitIntakeDrained(ctx, t, js, b.serveProcess, nil, run.intake)
	queryOutcomes(ctx, t, client.New(adminNC), run.intake)
	waitClosed(ctx, t, js, l)
	flips := flipPolicies(ctx, t, l, perServer(t, servers), 3, cfg.Flips)

	survivors := liveURLs(servers)
	stopNodes(ctx, t, adminNC, nodes)
	verified := verifyViews(ctx, t, bin, survivors, nodes)
	log, err := eventlog.OpenExisting(ctx, js, eventlog.Options{Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	h, err := readHistory(ctx, log)
	if err != nil {
		t.Fatalf("read the stream: %v", err)
	}
	checkAcked(t, l, h)
	crossApp := checkClosings(t, l, h)
	checkIntakeHistory(t, h, run.intake)
	run.probes.check(t, cfg.Probes)
	dups := out.check(t)
	for code, sample := range l.samples {
		t.Logf("refused %s, e.g. %s", code, sample)
		if code != "cross_app_not_allowed" && code != "conversation_closed" {
			// only policy 2 refuses anything here; a node that refuses from a
			// stale cached aggregate (message_not_found) must decide again
			t.Errorf("refused %s, which only a stale node would: %s", code, sample)
		}
	}
	t.Logf("load: %s; %d cross-app conversations closed once each by policy 2", l.figures(), crossApp)
	t.Logf("node %s (closer and intake leases) killed at the closer's first closing: both leases on another node %s later; "+
		"nats-server %s (stream leader) killed; longest time without an answer %s; restarted %s ready after %s",
		a.id, run.handOver.Round(time.Millisecond), run.leader, run.pause.Round(time.Millisecond), a.id, run.restart.Round(time.Millisecond))
	t.Logf("intake: %d commands over %d conversations decided once each, in order; %d outcomes seen, %d marked duplicate",
		cfg.Intake, intakeConversations, out.seen(), dups)
	t.Logf("read-your-writes: %s; policy flips: %s", run.probes.figures(), flips)
	t.Logf("audit verify: %s; %d events; binaries built in %s; total %s", verified, h.last,
		built.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// nodesRun is what runNodesLoad did and measured.
type nodesRun struct {
	intake   *backlog
	probes   *rywProbes
	handOver time.Duration // from the holder's kill until both leases were held elsewhere
	restart  time.Duration // from its restart until it was ready
	leader   string        // the nats-server killed
	pause    time.Duration // longest time in which no command was answered
}

// runNodesLoad runs the producers, the intake publishers and the probes,
// and beside them the policy change and the two kills, and returns once
// all are done.
func runNodesLoad(ctx context.Context, t *testing.T, cfg nodesConfig, l *load, servers []*natsProcess,
	js jetstream.JetStream, holder *clusterNode) nodesRun {
	t.Helper()
	run := nodesRun{intake: newBacklog(cfg.Intake, intakeConversations, rand.New(rand.NewPCG(23, 2))), probes: newRYWProbes()}
	urls := clusterURLs(servers)
	var wg sync.WaitGroup
	for p := range cfg.Producers {
		c := client.New(connectURLs(t, urls, fmt.Sprintf("crashtest-producer-%d", p)))
		rng := rand.New(rand.NewPCG(23, uint64(100+p)))
		wg.Go(func() { l.produce(ctx, c, rng, 2*time.Second) })
	}
	errs := make([]error, 3)
	for i := range 2 {
		nc := connectURLs(t, urls, fmt.Sprintf("crashtest-intake-%d", i))
		wg.Go(func() { errs[i] = feedIntake(ctx, nc, run.intake, i, 2, l, cfg.Commands) })
	}
	probers := perServer(t, servers)
	wg.Go(func() { errs[2] = run.probes.run(ctx, probers, l, cfg.Probes, cfg.Commands) })
	closing, unwatch := watchClosings(t, connectURLs(t, urls, "crashtest-closings"))
	defer unwatch()
	gaps := watchGaps(l)
	run.handOver, run.restart = killHolderAtClosing(ctx, t, cfg, l, js, holder, closing)
	if err := waitCompleted(ctx, l, int64(cfg.Commands*2/3)); err != nil {
		t.Fatal(err)
	}
	run.leader = killStreamLeader(ctx, t, js, servers)
	err := waitCompleted(ctx, l, int64(cfg.Commands))
	for _, done := range []func() bool{run.probes.finished, func() bool { return l.completed.Load() >= int64(cfg.Commands) }} {
		for err == nil && !done() && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
	l.stop.Store(true)
	wg.Wait()
	run.pause = gaps()
	if err := errors.Join(append(errs, err, ctx.Err())...); err != nil {
		t.Fatal(err)
	}
	if len(l.failures) > 0 {
		t.Fatalf("%d commands never got an answer, first: %s", len(l.failures), l.failures[0])
	}
	return run
}

// killHolderAtClosing publishes, once a fifth of the load is answered, a
// policy that denies cross-app chat two seconds later; kills holder with
// SIGKILL as soon as the closer's first conversation.closed is seen; waits
// until both leases are held by another node (at most takeoverLimit), and
// starts holder again. It returns the hand-over time and the restart's.
func killHolderAtClosing(ctx context.Context, t *testing.T, cfg nodesConfig, l *load, js jetstream.JetStream,
	holder *clusterNode, closing <-chan struct{}) (handOver, restart time.Duration) {
	t.Helper()
	if err := waitCompleted(ctx, l, int64(cfg.Commands/5)); err != nil {
		t.Fatal(err)
	}
	admin := client.New(js.Conn())
	if _, err := l.publish(ctx, admin, denyCrossApp(time.Now().Add(2*time.Second)), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closing:
	case <-time.After(time.Minute):
		t.Fatalf("the closer closed nothing within a minute of policy 2:\n%s", tail(holder.Logs()))
	}
	if err := holder.Kill(); err != nil {
		t.Fatal(err)
	}
	handOver = waitLeases(ctx, t, js, func(closer, intake string) bool {
		return closer != "" && closer != holder.id && intake != "" && intake != holder.id
	})
	if handOver > takeoverLimit {
		t.Errorf("the leases moved %s after their holder was killed, want within %s", handOver, takeoverLimit)
	}
	began := time.Now()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	return handOver, time.Since(began)
}

// waitLeases waits until the holders of the closer's and the intake's
// leases in CROSSTALK_LEASES satisfy ok, and returns how long that took.
func waitLeases(ctx context.Context, t *testing.T, js jetstream.JetStream, ok func(closer, intake string) bool) time.Duration {
	t.Helper()
	began := time.Now()
	var holders map[string]lease.Holder
	var err error
	for time.Since(began) < 3*takeoverLimit && ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		holders, err = lease.Holders(rctx, js)
		cancel()
		if err == nil && ok(holders[node.CloserLease].Node, holders[node.IntakeLease].Node) {
			return time.Since(began)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the leases are not as awaited after %s: %+v (%v)", time.Since(began), holders, err)
	return 0
}

// waitClosed waits until every acknowledged cross-app conversation has
// a conversation.closed in the stream: the closer, wherever its lease
// went, finished the policy.
func waitClosed(ctx context.Context, t *testing.T, js jetstream.JetStream, l *load) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		log, err := eventlog.OpenExisting(ctx, js, eventlog.Options{Logger: testkit.Quiet()})
		if err == nil {
			var h history
			if h, err = readHistory(ctx, log); err == nil && openCrossApp(l, h) == 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("cross-app conversations still open two minutes after the load (%v)", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// openCrossApp counts the acknowledged cross-app starts without a closing.
func openCrossApp(l *load, h history) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, a := range l.acked {
		if a.action == "conversation.start" && a.crossApp && h.closings[a.reply.ConversationID] == 0 {
			n++
		}
	}
	return n
}

// stopNodes waits until every node with views has applied the whole stream,
// then stops every node with SIGTERM (each must exit 0).
func stopNodes(ctx context.Context, t *testing.T, nc *nats.Conn, nodes []*clusterNode) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	last := logEnd(ctx, t, js)
	admin := client.New(nc)
	for _, n := range nodes {
		deadline := time.Now().Add(settleTimeout)
		for n.views {
			qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			st, err := admin.NodeStatus(qctx, n.id)
			cancel()
			if err == nil && st.ViewsCheckpoint >= last {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s: views at %d, not %d, after %s (%v)", n.id, st.ViewsCheckpoint, last, settleTimeout, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, n := range nodes {
		if err := n.Stop(); err != nil {
			t.Errorf("node %s: %v", n.id, err)
		}
		for _, race := range n.Races() {
			t.Errorf("node %s reported a data race:\n%s", n.id, tail(race))
		}
	}
}

// logEnd is the log's last sequence, on a partitioned log the sum of its
// streams' (what a node's status gives as its views' checkpoint).
func logEnd(ctx context.Context, t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	log, err := eventlog.OpenExisting(ctx, js, eventlog.Options{Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	seqs, err := log.LastSeqs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for _, s := range seqs {
		sum += s
	}
	return sum
}

// verifyViews runs `crosstalk audit verify --data DIR --nats-url URL` on
// every stopped node with views: it must pass, having checked views. A
// commands-only node has none to check, and must have opened none.
func verifyViews(ctx context.Context, t *testing.T, bin, urls string, nodes []*clusterNode) string {
	t.Helper()
	var verified []string
	for _, n := range nodes {
		if !n.views {
			if _, err := os.Stat(node.Layout{Dir: n.dir}.Views()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("node %s (--roles commands) has a views directory: %v", n.id, err)
			}
			continue
		}
		out, err := exec.CommandContext(ctx, bin, "audit", "verify", "--data", n.dir, "--nats-url", urls).CombinedOutput()
		summary := verifySummary(string(out))
		if err != nil || !strings.HasSuffix(summary, "breaks: 0") || strings.Contains(summary, "views checked: 0,") {
			t.Errorf("audit verify --data %s --nats-url %s of node %s: %v\n%s", filepath.Base(n.dir), urls, n.id, err, tail(string(out)))
		}
		verified = append(verified, n.id+": "+summary)
	}
	return strings.Join(verified, "; ")
}

// verifySummary is the line of audit verify's output that counts what it
// checked: "subjects: N, events: N, views checked: N, breaks: N".
func verifySummary(out string) string {
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "subjects: ") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// liveURLs is the client URLs of the servers still running.
func liveURLs(servers []*natsProcess) string {
	var live []*natsProcess
	for _, s := range servers {
		select {
		case <-s.exited:
		default:
			live = append(live, s)
		}
	}
	return clusterURLs(live)
}

// keepLogs writes each node's log into the directory CROSSTALK_CRASH_LOGS
// names, when the test failed and it is set: a failure seen once in CI is
// then read with what every node did.
func keepLogs(t *testing.T, nodes []*clusterNode) {
	dir := os.Getenv("CROSSTALK_CRASH_LOGS")
	if !t.Failed() || dir == "" {
		return
	}
	for _, n := range nodes {
		name := filepath.Join(dir, n.id+".log")
		if err := os.WriteFile(name, []byte(n.Logs()), 0o644); err != nil {
			t.Log(err)
		}
	}
	t.Logf("node logs in %s", dir)
}
