package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// tiny are options that run every phase in well under a second each.
func tiny() Options {
	return Options{
		Duration: 200 * time.Millisecond, Conversations: 20, Clients: 4, InFlight: 3,
		Backlog: 300, IntakeBacklog: 300, InboxStore: 300, InboxSmall: 120, Close: 150,
		LongConversation: 1500, // past a snapshot's interval and a conversation's memory
		Logger:           testkit.Quiet(),
	}
}

// figureNames are every figure a run measures.
var figureNames = []string{
	"raw_js_async_pub", "raw_ordered_consume", "raw_request_reply", "raw_occ_endpoint",
	"query_inbox_small", "query_inbox", "query_inbox_1client", "raw_request_reply_inbox", "projector_apply",
	"backlog_publish", "projector_catchup", "projector_catchup_feed",
	"cmd_send_sync", "cmd_send_pipelined", "cmd_send", "feed",
	"policy_close", "policy_close_all_closed", "rebuild", "rebuild_rate", "intake", "raw_occ_endpoint_late", "cmd_send_commands_node", "cmd_send_sealed",
	"cold_load_first", "cold_load_short", "cold_load_long", "cold_load_long_heap", "cold_old_message_edit",
}

// embeddedFigureNames are the figures measured only on the embedded broker:
// the *_auth ones under a generated identity configuration, and
// cmd_send_durable on a second broker with SyncAlways, cmd_send_partitions
// on a third whose log has four partitions.
var embeddedFigureNames = []string{"query_inbox_auth", "cmd_send_auth", "cmd_send_durable", "cmd_send_partitions"}

// targetNames are the targets of every run; the embedded broker adds
// embeddedTargetNames.
var (
	targetNames = []string{
		"cmd_send/raw_occ_endpoint", "cmd_send/raw_js_async_pub", "cmd_send cpu/op", "cmd_send_sync p99",
		"cmd_send_commands_node cpu/op",
		"projector_catchup/raw_ordered_consume", "projector_catchup cpu/op", "feed projector cpu/op",
		"rebuild_rate cpu/op",
		"query_inbox cpu/op", "query_inbox cpu/op against its shape", "query_inbox p99", "query_inbox_1client p99", "query_inbox flat", "policy_close",
		"intake/raw_js_async_pub",
		"cold_load_long", "cold_load_long_heap", "cold_load_long/cold_load_short",
	}
	embeddedTargetNames = []string{"cmd_send_auth cpu/op", "query_inbox_auth cpu/op", "cmd_send_durable/cmd_send"}
)

// checkTargets checks that res has exactly the targets names, in order,
// each saying what it wants, and that it has nratios ratios.
func checkTargets(t *testing.T, res Result, names []string, nratios int) {
	t.Helper()
	var got []string
	for _, tg := range res.Targets {
		got = append(got, tg.Name)
		if tg.Want == "" {
			t.Errorf("target %s says nothing of what it wants", tg.Name)
		}
	}
	if !slices.Equal(got, names) {
		t.Errorf("targets %q, want %q", got, names)
	}
	if len(res.Ratios) != nratios {
		t.Errorf("%d ratios, want %d: %+v", len(res.Ratios), nratios, res.Ratios)
	}
}

// A run on a given server measures every figure but the *_auth ones, says
// it skipped those, and leaves in CROSSTALK a history that verifies: the
// generated events are as valid and as chained as the service's own.
func TestRunMeasuresEveryFigureOnAValidHistory(t *testing.T) {
	srv := natstest.Start(t)
	opts := tiny()
	opts.NatsURL = srv.URL()
	var phases recorder
	res, err := Run(context.Background(), opts, &phases)
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, res, figureNames)
	if !strings.Contains(res.Environment.Durable, "skipped") {
		t.Errorf("with --nats-url the run must say it skipped cmd_send_durable: %q", res.Environment.Durable)
	}
	if !strings.Contains(res.Environment.Identity, "skipped") {
		t.Errorf("with --nats-url the run must say it skipped the *_auth figures: %q", res.Environment.Identity)
	}
	for _, f := range []string{"cmd_send", "cmd_send_sync", "query_inbox"} {
		if fig, _ := res.Figure(f); fig.P50 <= 0 || fig.P99 < fig.P50 {
			t.Errorf("%s: p50 %s, p99 %s; want 0 < p50 <= p99", f, fig.P50, fig.P99)
		}
	}
	if c, _ := res.Figure("policy_close"); c.Count != int64(opts.Close) {
		t.Errorf("policy_close closed %d conversations, want %d", c.Count, opts.Close)
	}
	if in, _ := res.Figure("intake"); in.Count != int64(opts.IntakeBacklog) {
		t.Errorf("intake decided %d commands, want %d", in.Count, opts.IntakeBacklog)
	}
	checkTargets(t, res, targetNames, 17)
	for _, want := range []string{"raw_js_async_pub", "projector_catchup", "cmd_send_pipelined", "policy_close", "rebuild",
		"intake_publish", "intake", "cmd_send_commands_node", "cold_load_publish"} {
		if !strings.Contains(phases.String(), want+"\n") {
			t.Errorf("progress never heard of phase %s:\n%s", want, phases.String())
		}
	}
	verifyHistory(t, srv)
}

// checkFigures checks that res has exactly the figures names, each with a
// positive value, count and CPU time.
func checkFigures(t *testing.T, res Result, names []string) {
	t.Helper()
	for _, name := range names {
		f, ok := res.Figure(name)
		if !ok || f.Value <= 0 || f.Count <= 0 || f.CPU <= 0 && processCPU() > 0 {
			t.Errorf("figure %s = %+v, %v; want a positive value, count and CPU time", name, f, ok)
		}
	}
	if len(res.Figures) != len(names) {
		t.Errorf("%d figures, want %d", len(res.Figures), len(names))
	}
}

// On the embedded broker the run also measures the *_auth figures, through
// the app principal, and their cost in CPU per operation against the same
// workloads without identities.
func TestRunEmbeddedMeasuresTheIdentityFigures(t *testing.T) {
	res, err := Run(context.Background(), tiny(), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, res, append(slices.Clone(figureNames), embeddedFigureNames...))
	checkTargets(t, res, append(slices.Clone(targetNames), embeddedTargetNames...), 22)
	var cpuRatios int
	for _, q := range res.Ratios {
		if q.Measure == MeasureCPUPerOp {
			cpuRatios++
			if q.Value <= 0 && processCPU() > 0 {
				t.Errorf("ratio %s = %v, want > 0", q.Name, q.Value)
			}
		}
	}
	if cpuRatios != 16 {
		t.Errorf("ratios %+v; want 16 of CPU per operation: 12 of every run, cmd_send_durable's, cmd_send_partitions' and the 2 *_auth", res.Ratios)
	}
	if !strings.Contains(res.Environment.Identity, "app principal") {
		t.Errorf("the environment must say how the *_auth figures connect: %q", res.Environment.Identity)
	}
}

// verifyHistory audits the stream CROSSTALK the run left on srv.
func verifyHistory(t *testing.T, srv *natstest.Server) {
	t.Helper()
	ctx := context.Background()
	log, err := eventlog.Open(ctx, srv.JetStream(t), eventlog.Options{Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.LastSeq == 0 {
		t.Errorf("the bench's history does not verify: %d breaks in %d events, first %+v", rep.BreaksTotal, rep.LastSeq, rep.Breaks)
	}
}

// The bench cannot purge what it writes, so it refuses a server that has
// a stream CROSSTALK already.
func TestRunRefusesAServerWithCrosstalkData(t *testing.T) {
	srv := natstest.Start(t)
	ctx := context.Background()
	if _, err := eventlog.Open(ctx, srv.JetStream(t), eventlog.Options{Logger: testkit.Quiet()}); err != nil {
		t.Fatal(err)
	}
	opts := tiny()
	opts.NatsURL = srv.URL()
	_, err := Run(ctx, opts, nil)
	if err == nil || !strings.Contains(err.Error(), "already has the stream CROSSTALK") {
		t.Fatalf("Run on a server with CROSSTALK: %v; want a refusal naming the stream", err)
	}
}

func TestEnsureDefaults(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	if o.Duration != 5*time.Second || o.Conversations != 1000 || o.Clients != 32 || o.InFlight != 16 ||
		o.Backlog != 200_000 || o.IntakeBacklog != 200_000 || o.InboxStore != 100_000 || o.InboxSmall != 10_000 || o.Close != 100_000 ||
		o.BodySize != 256 || o.Dir == "" || o.Logger == nil {
		t.Errorf("defaults: %+v", o)
	}
	small := Options{InboxStore: 2000}
	small.EnsureDefaults()
	if small.InboxSmall != 2000 {
		t.Errorf("InboxSmall = %d with InboxStore 2000, want 2000", small.InboxSmall)
	}
}

func TestPercentile(t *testing.T) {
	var l latencies
	for i := 100; i >= 1; i-- {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond} {
		if got := l.percentile(p); got != want {
			t.Errorf("p%v = %s, want %s", p, got, want)
		}
	}
	if got := latencies(nil).percentile(99); got != 0 {
		t.Errorf("p99 of nothing = %s, want 0", got)
	}
}

// Every client writes to its own conversations, round robin, and with
// fewer conversations than clients each still gets one.
func TestOwnedConversation(t *testing.T) {
	const clients, n = 4, 10
	owner := map[int]int{}
	for c := range clients {
		for k := range 20 {
			i := ownedConversation(c, clients, n, k)
			if prev, ok := owner[i]; ok && prev != c {
				t.Fatalf("conversation %d is owned by clients %d and %d", i, prev, c)
			}
			owner[i] = c
		}
	}
	if len(owner) != n {
		t.Errorf("%d of %d conversations used", len(owner), n)
	}
	if got := ownedConversation(5, 8, 3, 7); got != 2 {
		t.Errorf("client 5 of 8 over 3 conversations: %d, want 2", got)
	}
}

func TestProfilePath(t *testing.T) {
	if got := profilePath("/tmp/cpu.pprof", "cmd_send_sync"); got != "/tmp/cpu.cmd_send_sync.pprof" {
		t.Errorf("got %s", got)
	}
	if got := profilePath("cpu", "rebuild"); got != "cpu.rebuild" {
		t.Errorf("got %s", got)
	}
}

// The targets compare the right figures, and both outputs show them.
func TestTargetsTableAndJSON(t *testing.T) {
	us := func(n float64) time.Duration { return time.Duration(n * 100 * float64(time.Microsecond)) } // CPU of 100 ops
	r := Result{Environment: Environment{InboxSmall: 10_000, InboxStore: 100_000}, Figures: []Figure{
		{Name: figRawPub, Value: 100_000, Unit: "msgs/s", Count: 100, CPU: us(10)},
		{Name: figRawConsume, Value: 200_000, Unit: "msgs/s", Count: 100, CPU: us(4)},
		{Name: figRawRR, Value: 100_000, Unit: "requests/s", Count: 100, CPU: us(14)},
		{Name: figRawOCC, Value: 50_000, Unit: "cmds/s", Count: 100, CPU: us(30)},
		{Name: figQuerySmall, Value: 5000, Unit: "queries/s", Count: 100, CPU: us(40)},
		{Name: figQuery, Value: 5000, Unit: "queries/s", P50: time.Millisecond, P99: 4 * time.Millisecond, Count: 100, CPU: us(50)},
		{Name: figQuery1, Value: 3000, Unit: "queries/s", P50: 100 * time.Microsecond, P99: 600 * time.Microsecond, Count: 100, CPU: us(60)},
		{Name: figQueryAuth, Value: 4000, Unit: "queries/s", Count: 100, CPU: us(55)},
		{Name: figCatchup, Value: 60_000, Unit: "events/s", Count: 100, CPU: us(12)},
		{Name: figSendSync, Value: 8000, Unit: "cmds/s", P50: time.Millisecond, P99: 12 * time.Millisecond, Count: 100, CPU: us(80)},
		{Name: figSendPiped, Value: 30_000, Unit: "cmds/s", Count: 100, CPU: us(50)},
		{Name: figSend, Value: 30_000, Unit: "cmds/s", Count: 100, CPU: us(50)},
		{Name: figSendAuth, Value: 25_000, Unit: "cmds/s", Count: 100, CPU: us(60)},
		{Name: figClose, Value: 2.5, Unit: "s", Count: 100, CPU: us(20)},
		{Name: figRebuildRate, Value: 40_000, Unit: "events/s", Count: 100, CPU: us(30)},
		{Name: figSendDurable, Value: 15_000, Unit: "cmds/s", Count: 100, CPU: us(70)},
		{Name: figIntake, Value: 20_000, Unit: "cmds/s", Count: 100, CPU: us(25)},
	}}
	r.evaluate()
	pass := map[string]bool{}
	for _, tg := range r.Targets {
		pass[tg.Name] = tg.Pass
	}
	want := map[string]bool{
		"cmd_send/raw_occ_endpoint": true, "cmd_send/raw_js_async_pub": true, "cmd_send cpu/op": true,
		"cmd_send_sync p99": false, "projector_catchup/raw_ordered_consume": true, "projector_catchup cpu/op": true,
		"rebuild_rate cpu/op": false, "query_inbox cpu/op": false, "query_inbox p99": true,
		"query_inbox_1client p99": false, "query_inbox flat": false, "policy_close": true,
		"cmd_send_auth cpu/op": false, "query_inbox_auth cpu/op": true, "intake/raw_js_async_pub": false,
		"cmd_send_durable/cmd_send": true,
	}
	if len(r.Targets) != len(want) {
		t.Errorf("%d targets, want %d: %+v", len(r.Targets), len(want), r.Targets)
	}
	for name, w := range want {
		if p, ok := pass[name]; !ok || p != w {
			t.Errorf("target %s: pass %v (present %v), want %v", name, p, ok, w)
		}
	}
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"cmd_send / raw_occ_endpoint  ", "0.600", "12.00ms", "PASS", "MISS",
		"cmd_send_auth / cmd_send_pipelined (cpu/op)", "1.200", "cmd_send / raw_request_reply+raw_js_async_pub (cpu/op)",
		"<= 2.5 × (raw_request_reply + raw_js_async_pub) = 60.0µs", "<= 3 × raw_request_reply = 42.0µs",
		"(flat: 10000 → 100000 conversations)", "cmd_send_durable / cmd_send", "<= 25µs",
		"intake / raw_js_async_pub  ", "intake / cmd_send (cpu/op)", "0.500", "intake/raw_js_async_pub  ", ">= 0.3"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, table.String())
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Figures map[string]struct {
			Value float64 `json:"value"`
			P99ms float64 `json:"p99_ms"`
		} `json:"figures"`
		Ratios  map[string]struct{ Value float64 } `json:"ratios"`
		Targets []Target                           `json:"targets"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Figures["cmd_send_sync"].P99ms != 12 || got.Ratios["projector_catchup/raw_ordered_consume"].Value != 0.3 ||
		len(got.Targets) != len(want) || got.Ratios["cmd_send_auth/cmd_send_pipelined cpu_per_op"].Value != 1.2 ||
		got.Ratios["cmd_send/raw_occ_endpoint"].Value != 0.6 || got.Ratios["cmd_send_durable/cmd_send"].Value != 0.5 ||
		got.Ratios["query_inbox/query_inbox_small cpu_per_op"].Value != 1.25 ||
		got.Ratios["intake/raw_js_async_pub"].Value != 0.2 || got.Ratios["intake/cmd_send cpu_per_op"].Value != 0.5 {
		t.Errorf("JSON: %s", b)
	}
}

// recorder is a Progress that writes each phase's name on a line.
type recorder struct{ bytes.Buffer }

func (r *recorder) Phase(name string, total int64) {
	if total <= 0 {
		panic("phase " + name + " without work")
	}
	io.WriteString(r, name+"\n")
}
func (r *recorder) Set(int64) {}
func (r *recorder) Done()     {}
