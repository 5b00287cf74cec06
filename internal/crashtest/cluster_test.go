package crashtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// clusterPause bounds how long serve may answer nothing after the stream
// leader's server is killed: the election, a reconnect, one request timeout.
const clusterPause = 15 * time.Second

// TestServeOnClusterLeaderKill runs the real binary, serve --nats-url
// URL,URL,URL --replicas 3, on three real nats-server processes (built from
// the nats-server module crosstalk depends on), and kills the stream
// leader's server with SIGKILL in the middle of a load of retrying
// producers. Every acknowledged command is in the stream exactly once, serve
// answers again after a bounded pause, and its read model catches up with
// the stream. A serve asking for another replication refuses to start.
func TestServeOnClusterLeaderKill(t *testing.T) {
	commands := 1500
	if testing.Short() {
		commands = 600
	}
	began := time.Now()
	bin, natsBin := buildBinary(t), buildNATSServer(t)
	built := time.Since(began)
	servers := startNATSCluster(t, natsBin, 3)
	urls := clusterURLs(servers)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	dir := t.TempDir()
	srv := newServeProcessArgs(t, bin, dir, urls, "serve", "--data", dir, "--nats-url", urls, "--replicas", "3")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	adminNC := connectURLs(t, urls, "crashtest-admin")
	js, err := jetstream.New(adminNC)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{events.StreamName, events.AuditStreamName} {
		if info := streamInfo(ctx, t, js, name); info.Config.Replicas != 3 || len(info.Cluster.Replicas) != 2 {
			t.Fatalf("stream %s: %d replicas configured, cluster %+v; want 3", name, info.Config.Replicas, info.Cluster)
		}
	}
	refusesOtherReplication(t, bin, urls)

	l := newLoad(40, 10, rand.New(rand.NewPCG(7, 1)))
	v1, err := policies.Read("v1-2020-cross-app.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.publish(ctx, client.New(adminNC), v1, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	killed, pause := loadThroughLeaderKill(ctx, t, l, servers, js, commands)
	if len(l.failures) > 0 {
		t.Fatalf("%d commands never got an answer, first: %s\n%s", len(l.failures), l.failures[0], tail(srv.Logs()))
	}
	if pause > clusterPause {
		t.Errorf("serve answered nothing for %s after the leader %s was killed, want at most %s", pause, killed, clusterPause)
	}

	caughtUp := time.Now()
	last := waitSettled(ctx, t, srv, adminNC, client.New(adminNC), l)
	log, err := eventlog.OpenExisting(ctx, js, eventlog.Options{Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	h, err := readHistory(ctx, log)
	if err != nil {
		t.Fatalf("read the stream: %v", err)
	}
	if h.last != last {
		t.Errorf("the stream's last sequence was %d, then %d with no load running", last, h.last)
	}
	checkAcked(t, l, h)
	if rep, err := audit.Verify(ctx, log, nil); err != nil || !rep.OK() {
		t.Errorf("audit verify: %v, %+v", err, rep)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, race := range srv.Races() {
		t.Errorf("serve reported a data race:\n%s", tail(race))
	}
	t.Logf("R3 on 3 nats-server processes: %s; leader %s killed, longest time without an answer %s; "+
		"read model at seq %d %s after the load; binaries built in %s; total %s", l.figures(), killed,
		pause.Round(time.Millisecond), last, time.Since(caughtUp).Round(time.Millisecond),
		built.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// loadThroughLeaderKill runs producers until commands are answered, and
// kills the stream leader's server once a third are. It returns the
// leader's name and the longest time in which no command was answered.
func loadThroughLeaderKill(ctx context.Context, t *testing.T, l *load, servers []*natsProcess, js jetstream.JetStream,
	commands int) (string, time.Duration) {
	t.Helper()
	var producers sync.WaitGroup
	for p := range 4 {
		c := client.New(connectURLs(t, clusterURLs(servers), fmt.Sprintf("crashtest-producer-%d", p)))
		rng := rand.New(rand.NewPCG(7, uint64(100+p)))
		producers.Go(func() { l.produce(ctx, c, rng, 2*time.Second) })
	}
	gaps := watchGaps(l)
	if err := waitCompleted(ctx, l, int64(commands/3)); err != nil {
		t.Fatal(err)
	}
	leader := killStreamLeader(ctx, t, js, servers)
	err := waitCompleted(ctx, l, int64(commands))
	l.stop.Store(true)
	producers.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return leader, gaps()
}

// killStreamLeader kills, with SIGKILL, the server that leads the event
// stream, and returns its name.
func killStreamLeader(ctx context.Context, t *testing.T, js jetstream.JetStream, servers []*natsProcess) string {
	t.Helper()
	log, err := eventlog.OpenExisting(ctx, js, eventlog.Options{Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	leader := streamInfo(ctx, t, js, log.StreamNames()[0]).Cluster.Leader // CROSSTALK, or CROSSTALK_P0
	for _, s := range servers {
		if s.name == leader {
			if err := s.Kill(); err != nil {
				t.Fatal(err)
			}
			return leader
		}
	}
	t.Fatalf("the stream leader %q is none of the servers", leader)
	return ""
}

// watchGaps measures, until the returned function is called, the longest
// time in which no command of l was answered.
func watchGaps(l *load) func() time.Duration {
	done := make(chan struct{})
	result := make(chan time.Duration)
	go func() {
		var longest time.Duration
		seen, since := l.completed.Load(), time.Now()
		for {
			select {
			case <-done:
				result <- longest
				return
			case <-time.After(5 * time.Millisecond):
			}
			if n := l.completed.Load(); n != seen {
				seen, since = n, time.Now()
			}
			longest = max(longest, time.Since(since))
		}
	}()
	return func() time.Duration {
		close(done)
		return <-result
	}
}

// refusesOtherReplication runs a second serve asking for one replica of
// the streams that have three: it must refuse to start, naming the
// difference.
func refusesOtherReplication(t *testing.T, bin, urls string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "serve", "--data", t.TempDir(), "--nats-url", urls, "--replicas", "1").CombinedOutput()
	const want = "it has 3 replicas, 1 were asked for"
	if err == nil || !strings.Contains(string(out), want) {
		t.Fatalf("serve --replicas 1 on R3 streams: %v; want a refusal saying %q:\n%s", err, want, tail(string(out)))
	}
}

func streamInfo(ctx context.Context, t *testing.T, js jetstream.JetStream, name string) *jetstream.StreamInfo {
	t.Helper()
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s info: %v", name, err)
	}
	if info.Cluster == nil {
		t.Fatalf("stream %s has no cluster information", name)
	}
	return info
}

// connectURLs connects to any of the comma-separated urls as a producer
// would, reconnecting for ever, quickly.
func connectURLs(t *testing.T, urls, name string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(urls, nats.Name(name), nats.MaxReconnects(-1),
		nats.ReconnectWait(20*time.Millisecond), nats.ReconnectJitter(10*time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatalf("connect to %s: %v", urls, err)
	}
	t.Cleanup(nc.Close)
	return nc
}
