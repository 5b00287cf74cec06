package crashtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// crashConfig sizes one run of TestCrashAnywhere.
type crashConfig struct {
	Commands       int // answered commands to send, at least
	Producers      int
	Conversations  int
	AccountsPerApp int
	ProgressKills  int // kills spread over the load; one more lands in the closer
	RequestTimeout time.Duration
}

// configFromEnv is the CI size by default, and the long run with
// CROSSTALK_CRASH_FULL=1:
//
//	CROSSTALK_CRASH_FULL=1 go test -run TestCrash -timeout 30m -v ./internal/crashtest
func configFromEnv() crashConfig {
	if os.Getenv("CROSSTALK_CRASH_FULL") == "1" {
		return crashConfig{Commands: 20_000, Producers: 8, Conversations: 400, AccountsPerApp: 100,
			ProgressKills: 11, RequestTimeout: 2 * time.Second}
	}
	return crashConfig{Commands: 2000, Producers: 4, Conversations: 60, AccountsPerApp: 20,
		ProgressKills: 2, RequestTimeout: 2 * time.Second}
}

// seedFromEnv is CROSSTALK_CRASH_SEED, to replay a failed run's choices, or
// a fresh seed.
func seedFromEnv(t *testing.T) uint64 {
	if s := os.Getenv("CROSSTALK_CRASH_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CROSSTALK_CRASH_SEED=%q: %v", s, err)
		}
		return seed
	}
	return uint64(time.Now().UnixNano())
}

// TestCrashAnywhere: nothing acknowledged is ever lost, whenever the
// process dies. It runs the real binary with --sync-always, kills it with
// SIGKILL at random points of a load of retrying producers (during appends,
// projection, the policy closer and recovery), and checks afterwards that
// every acknowledged command is in the stream exactly once, that retried
// commands produced one event, that the views equal a fresh replay, and that
// the audit finds no break.
func TestCrashAnywhere(t *testing.T) {
	cfg := configFromEnv()
	seed := seedFromEnv(t)
	t.Logf("seed %d (rerun with CROSSTALK_CRASH_SEED=%d); %+v", seed, seed, cfg)
	began := time.Now()
	bin := buildBinary(t)
	built := time.Since(began)

	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	dir := t.TempDir()
	srv := newServeProcess(t, bin, dir, testkit.FreeAddr(t))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	adminNC := connect(t, srv.addr, "crashtest-admin")
	l := newLoad(cfg.Conversations, cfg.AccountsPerApp, rand.New(rand.NewPCG(seed, 1)))
	loadTime := crashUnderLoad(ctx, t, cfg, seed, l, srv, adminNC)
	kills := srv.Kills()
	last := restartCleanly(ctx, t, srv, adminNC, l)

	o := openOffline(ctx, t, dir)
	fresh, err := projector.Open(projector.Options{Dir: t.TempDir(), Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	h, err := o.replay(ctx, fresh)
	if err != nil {
		t.Fatalf("replay the stream: %v", err)
	}
	if h.last != last {
		t.Errorf("the stream ended at seq %d while serve ran, at %d offline", last, h.last)
	}
	checkAcked(t, l, h)
	crossApp := checkClosings(t, l, h)
	checkViews(ctx, t, o, fresh, h)

	t.Logf("load: %s in %s (%.0f answers/s) over %d conversations by %d producers",
		l.figures(), loadTime.Round(time.Millisecond), float64(l.completed.Load())/loadTime.Seconds(),
		cfg.Conversations, cfg.Producers)
	t.Logf("kills: %d SIGKILLs (one during the policy closer), back up after %s; the closer closed %d cross-app "+
		"conversations once each; %d events in the stream; binary built in %s; total %s", kills,
		roundAll(srv.Downtimes()), crossApp, h.last, built.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// crashUnderLoad publishes v1, runs the load with its kills and policy
// change, and returns how long the producers ran.
func crashUnderLoad(ctx context.Context, t *testing.T, cfg crashConfig, seed uint64, l *load, srv *serveProcess,
	adminNC *nats.Conn) time.Duration {
	t.Helper()
	admin := client.New(adminNC)
	v1, err := policies.Read("v1-2020-cross-app.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.publish(ctx, admin, v1, cfg.RequestTimeout); err != nil {
		t.Fatal(err)
	}
	closing, unwatch := watchClosings(t, adminNC)
	defer unwatch()
	took, err := runLoad(ctx, t, cfg, seed, l, srv, admin, closing)
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(srv.Logs()))
	}
	if len(l.failures) > 0 {
		t.Fatalf("%d commands never got an answer, first: %s", len(l.failures), l.failures[0])
	}
	return took
}

// restartCleanly stops serve with SIGTERM, starts it again, waits for the
// read model to apply the whole stream, stops it again, and returns the
// stream's last sequence.
func restartCleanly(ctx context.Context, t *testing.T, srv *serveProcess, adminNC *nats.Conn, l *load) uint64 {
	t.Helper()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	last := waitSettled(ctx, t, srv, adminNC, client.New(adminNC), l)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, race := range srv.Races() {
		t.Errorf("serve reported a data race:\n%s", tail(race))
	}
	for code, sample := range l.samples {
		t.Logf("refused %s, e.g. %s", code, sample)
	}
	return last
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// runLoad runs the producers and, beside them, the kills and the policy
// change, and stops the producers once both are done and at least
// cfg.Commands commands were answered. It returns how long the producers
// ran, after waiting for the closer to apply the policy.
func runLoad(ctx context.Context, t *testing.T, cfg crashConfig, seed uint64, l *load, srv *serveProcess,
	admin *client.Client, closing <-chan struct{}) (time.Duration, error) {
	began := time.Now()
	var producers sync.WaitGroup
	for p := range cfg.Producers {
		c := client.New(connect(t, srv.addr, fmt.Sprintf("crashtest-producer-%d", p)))
		rng := rand.New(rand.NewPCG(seed, uint64(100+p)))
		producers.Go(func() { l.produce(ctx, c, rng, cfg.RequestTimeout) })
	}
	var chaos sync.WaitGroup
	errs := make([]error, 2)
	chaos.Go(func() { errs[0] = progressKills(ctx, cfg, l, srv, rand.New(rand.NewPCG(seed, 2))) })
	chaos.Go(func() {
		errs[1] = policyThenCloserKill(ctx, cfg, l, srv, admin, closing, rand.New(rand.NewPCG(seed, 3)))
	})
	chaos.Wait()
	err := errors.Join(errs...)
	for err == nil && l.completed.Load() < int64(cfg.Commands) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	l.stop.Store(true)
	producers.Wait()
	took := time.Since(began)
	// The closer applies the policy in two passes, some seconds apart,
	// after the kill in the closer.
	deadline := time.Now().Add(time.Minute)
	for err == nil && !policyApplied(ctx, admin, 2) {
		if time.Now().After(deadline) {
			err = errors.New("policy 2 not applied within a minute of the last kill")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return took, err
}

// progressKills kills serve at random points spread over the load: once
// the answered commands pass each of cfg.ProgressKills thresholds, after a
// random few milliseconds. A third of the kills also kill the restarted
// process while it recovers.
func progressKills(ctx context.Context, cfg crashConfig, l *load, srv *serveProcess, rng *rand.Rand) error {
	step := cfg.Commands / (cfg.ProgressKills + 1)
	for i := 1; i <= cfg.ProgressKills; i++ {
		at := int64(i*step + rng.IntN(step/2+1) - step/4)
		if err := waitCompleted(ctx, l, at); err != nil {
			return err
		}
		time.Sleep(time.Duration(rng.IntN(20_000)) * time.Microsecond)
		var recovery time.Duration
		if rng.IntN(3) == 0 {
			recovery = time.Duration(20+rng.IntN(400)) * time.Millisecond
		}
		if err := srv.Crash(recovery); err != nil {
			return fmt.Errorf("kill %d: %w", i, err)
		}
	}
	return nil
}

// policyThenCloserKill publishes, when two fifths of the load are answered,
// a policy that denies cross-app chat from a few seconds on (serve runs on
// the wall clock), and kills serve a random moment after the closer has
// appended its first conversation.closed.
func policyThenCloserKill(ctx context.Context, cfg crashConfig, l *load, srv *serveProcess, admin *client.Client,
	closing <-chan struct{}, rng *rand.Rand) error {
	if err := waitCompleted(ctx, l, int64(cfg.Commands*2/5)); err != nil {
		return err
	}
	if _, err := l.publish(ctx, admin, denyCrossApp(time.Now().Add(3*time.Second)), cfg.RequestTimeout); err != nil {
		return err
	}
	select {
	case <-closing:
	case <-time.After(time.Minute):
		return errors.New("the closer appended no conversation.closed within a minute of the policy's publication")
	}
	time.Sleep(time.Duration(rng.IntN(30_000)) * time.Microsecond)
	if err := srv.Crash(0); err != nil {
		return fmt.Errorf("kill during the closer: %w", err)
	}
	return nil
}

func waitCompleted(ctx context.Context, l *load, n int64) error {
	for l.completed.Load() < n {
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for %d answered commands, have %d: %w", n, l.completed.Load(), ctx.Err())
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

// denyCrossApp is policy version 2: instagram and messenger may no longer
// do anything toward each other, from effective on.
func denyCrossApp(effective time.Time) []byte {
	return crossAppPolicy(2, false, effective)
}

// crossAppPolicy is a policy version that allows or denies everything
// between instagram and messenger, from effective on.
func crossAppPolicy(version uint64, allow bool, effective time.Time) []byte {
	link := func(from, to string) string {
		return fmt.Sprintf(`{"from":%q,"to":%q,"start_conversation":%[3]t,"send":%[3]t,"call":%[3]t,`+
			`"see_activity_status":%[3]t,"see_read_receipts":%[3]t}`, from, to, allow)
	}
	return fmt.Appendf(nil, `{"version":%d,"name":"crashtest-cross-app-%d","effective_at":%q,"links":[%s,%s]}`,
		version, version, effective.UTC().Format(time.RFC3339Nano), link("instagram", "messenger"), link("messenger", "instagram"))
}

// connect connects to serve as a producer would: reconnecting for ever,
// quickly, so that a restarted serve is found again at once.
func connect(t *testing.T, addr, name string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect("nats://"+addr, nats.Name(name), nats.MaxReconnects(-1),
		nats.ReconnectWait(20*time.Millisecond), nats.ReconnectJitter(10*time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatalf("connect to serve at %s: %v", addr, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// watchClosings returns a channel closed when the first conversation.closed
// event is published, seen on the core subjects the stream captures.
func watchClosings(t *testing.T, nc *nats.Conn) (<-chan struct{}, func()) {
	t.Helper()
	ch := make(chan struct{})
	var once sync.Once
	seen := func(m *nats.Msg) {
		if bytes.Contains(m.Data, []byte(events.ConversationClosed)) {
			once.Do(func() { close(ch) })
		}
	}
	// a partitioned log's appends are published on crosstalk.events.p<k>.conv.<id>
	var subs []*nats.Subscription
	for _, subject := range []string{events.ConversationSubject("*"), "crosstalk.events.*.conv.*"} {
		sub, err := nc.Subscribe(subject, seen)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	return ch, func() {
		for _, sub := range subs {
			_ = sub.Unsubscribe()
		}
	}
}

// settleTimeout bounds how long the read model may take to apply the whole
// stream once the load has stopped.
const settleTimeout = 90 * time.Second

// waitSettled waits until the read model has applied the stream's last
// sequence (a query with min_seq), and returns that sequence.

func waitSettled(ctx context.Context, t *testing.T, srv *serveProcess, nc *nats.Conn, c *client.Client, l *load) uint64 {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := info.State.LastSeq
	var conv string
	for _, a := range l.acked {
		if a.action == "conversation.start" {
			conv = a.reply.ConversationID
			break
		}
	}
	// The read model may need a new consumer after an election; on a loaded
	// two-core CI machine that takes tens of seconds, so wait up to
	// settleTimeout, each query waiting up to 2s with min_seq.
	deadline := time.Now().Add(settleTimeout)
	var err2 error
	for time.Now().Before(deadline) {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var view api.ConversationView
		err2 = c.Query(qctx, "conversation", map[string]any{"conversation_id": conv, "min_seq": last}, &view)
		cancel()
		if client.CodeOf(err2) != "not_caught_up" {
			break
		}
	}
	if err2 != nil {
		t.Fatalf("query with min_seq %d (the stream's last sequence): %v\n%s", last, err2, tail(srv.Logs()))
	}
	return last
}

func policyApplied(ctx context.Context, c *client.Client, version uint64) bool {
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var rep api.PolicyReport
	if err := c.Query(qctx, "policy", map[string]any{}, &rep); err != nil {
		return false
	}
	for _, p := range rep.Versions {
		if p.Version == version && p.Applied {
			return true
		}
	}
	return false
}
