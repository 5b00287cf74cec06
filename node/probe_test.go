package node_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/service"
)

// secret is a message text that must never reach an info-level log.
const secret = "the-private-text-7f3a"

// everyMetric is the list of docs/operations.md: each must be exposed
// after a small workload.
var everyMetric = []string{
	"crosstalk_commands_total", "crosstalk_command_duration_seconds", "crosstalk_append_duration_seconds",
	"crosstalk_occ_conflicts_total", "crosstalk_occ_retries_total", "crosstalk_queries_total",
	"crosstalk_query_duration_seconds", "crosstalk_projector_lag_events", "crosstalk_projector_lag_seconds",
	"crosstalk_projector_events_applied_total", "crosstalk_poisoned_messages_total",
	"crosstalk_pebble_disk_usage_bytes", "crosstalk_pebble_compactions_total", "crosstalk_pebble_read_amplification",
	"crosstalk_pebble_level_size_bytes", "crosstalk_aggregate_cache_entries", "crosstalk_aggregate_cache_hit_ratio",
	"crosstalk_aggregate_cache_lookups_total", "crosstalk_closer_affected_conversations", "crosstalk_closer_applied",
	"crosstalk_views_rebuild_running", "crosstalk_views_rebuild_applied_events", "crosstalk_views_rebuild_target_seq",
	"crosstalk_refusals_total", "crosstalk_closer_closed_conversations", "crosstalk_stream_reachable", "crosstalk_build_info",
}

func TestMetricsHealthAndLogs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logs := &testkit.LockedBuffer{}
	n, err := node.Start(ctx, node.Options{Dir: t.TempDir(), Listen: "127.0.0.1:0", Service: service.Options{},
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- n.Run(runCtx) }()
	defer n.Close()
	<-n.Service().Ready()
	probe, err := n.Probe("127.0.0.1:0", 1000)
	if err != nil {
		t.Fatal(err)
	}
	probeCtx, stopProbe := context.WithCancel(ctx)
	probeDone := make(chan error, 1)
	go func() { probeDone <- probe.Run(probeCtx) }()
	defer func() { stopProbe(); <-probeDone }()

	workload(ctx, t, n)
	base := "http://" + probe.Addr()
	if code, body := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz of a node caught up: %d %s", code, body)
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	checkMetrics(t, base)
	if strings.Contains(logs.String(), secret) {
		t.Errorf("a message's text reached the info-level log:\n%s", logs.String())
	}
	for _, want := range []string{`"msg":"policy in force"`, `"msg":"policy closer pass"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no log line %s:\n%s", want, logs.String())
		}
	}

	// Stop the service but not the node: the projector no longer runs.
	stopRun()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, base+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "projector not running") {
		t.Errorf("/readyz with the projector stopped: %d %s", code, body)
	}
	// Append behind its back: the read model lags by more than allowed.
	lagged, err := n.Probe("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Log().Append(ctx, events.AccountSubject("instagram:zed"), 0, uuid.NewString(), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	lctx, stopLagged := context.WithCancel(ctx)
	laggedDone := make(chan error, 1)
	go func() { laggedDone <- lagged.Run(lctx) }()
	defer func() { stopLagged(); <-laggedDone }()
	if code, body := get(t, "http://"+lagged.Addr()+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "lagging") {
		t.Errorf("/readyz lagging beyond --ready-max-lag 0: %d %s", code, body)
	}
}

// workload publishes a policy, starts a conversation, sends a message with
// secret text, publishes junk into the conversation's subject and sends
// again, has one send refused and asks two queries.
func workload(ctx context.Context, t *testing.T, n *node.Node) {
	t.Helper()
	c := client.New(n.Conn())
	data, err := policies.Read("v1-2020-cross-app.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishPolicy(ctx, client.PolicyCommandID(data), json.RawMessage(data)); err != nil {
		t.Fatal(err)
	}
	r, err := c.Command(ctx, "instagram", "conversation.start", map[string]any{
		"command_id": uuid.NewString(), "actor": "instagram:alice", "participants": []string{"messenger:bob"}})
	if err != nil {
		t.Fatal(err)
	}
	send := map[string]any{"command_id": uuid.NewString(), "actor": "instagram:alice",
		"conversation_id": r.ConversationID, "message_id": uuid.NewString(), "text": secret}
	if _, err = c.Command(ctx, "instagram", "message.send", send); err != nil {
		t.Fatal(err)
	}
	// Junk published straight into the conversation's subject: the views
	// and the command side each skip it as poison, and count it.
	js, err := jetstream.New(n.Conn())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, events.ConversationSubject(r.ConversationID), []byte("not an event")); err != nil {
		t.Fatal(err)
	}
	send["command_id"], send["message_id"] = uuid.NewString(), uuid.NewString()
	if r, err = c.Command(ctx, "instagram", "message.send", send); err != nil {
		t.Fatalf("a send after the poison: %v", err)
	}
	send["command_id"], send["actor"] = uuid.NewString(), "instagram:mallory"
	if _, err := c.Command(ctx, "instagram", "message.send", send); err == nil {
		t.Fatal("a send by a non-participant was accepted")
	}
	var out json.RawMessage
	if err := c.Query(ctx, "inbox", map[string]any{"account": "instagram:alice", "min_seq": r.StreamSeq}, &out); err != nil {
		t.Fatal(err)
	}
	if err := c.Query(ctx, "status", map[string]any{}, &out); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !n.Service().ClosingProgress()[1].Applied && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond) // the closer's second pass
	}
	if _, err := c.RebuildViews(ctx); err != nil {
		t.Fatal(err)
	}
	for p, _ := n.Service().RebuildProgress(); p.State == api.RebuildRunning && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		p, _ = n.Service().RebuildProgress()
	}
}

// checkMetrics scrapes /metrics: promlint finds nothing, and every listed
// metric is there.
func checkMetrics(t *testing.T, base string) {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "crosstalk_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
	for _, m := range everyMetric {
		if !strings.Contains(body, "\n"+m) {
			t.Errorf("metric %s missing after a workload", m)
		}
	}
	for _, want := range []string{`crosstalk_commands_total{action="message.send",code="not_participant"} 1`,
		`crosstalk_refusals_total{code="not_participant"} 1`, `crosstalk_closer_applied{policy_version="1"} 1`, `crosstalk_stream_reachable 1`,
		`crosstalk_poisoned_messages_total{side="commands"} 1`, `crosstalk_poisoned_messages_total{side="views"} 1`,
		"crosstalk_views_rebuild_running 0", "crosstalk_views_rebuild_target_seq "} {
		if !strings.Contains(body, want) {
			t.Errorf("no %s in\n%s", want, body)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
