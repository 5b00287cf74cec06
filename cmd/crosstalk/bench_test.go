package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// bench --quick --json measures every figure and prints them as one JSON
// object with the ratios and targets; progress goes to stderr as lines. It
// checks that each figure is there and positive, not how fast anything is.
func TestBenchQuickJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"bench", "--quick", "--json"}, &out, &errOut); err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	var res struct {
		Environment struct {
			CPUs int `json:"cpus"`
		} `json:"environment"`
		Figures map[string]struct {
			Value float64 `json:"value"`
			Unit  string  `json:"unit"`
			Count int64   `json:"count"`
			P50ms float64 `json:"p50_ms"`
			P99ms float64 `json:"p99_ms"`
		} `json:"figures"`
		Ratios  map[string]struct{ Value float64 } `json:"ratios"`
		Targets []struct {
			Name string `json:"name"`
			Pass *bool  `json:"pass"`
		} `json:"targets"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out.String())
	}
	for _, name := range []string{
		"raw_js_async_pub", "raw_ordered_consume", "raw_request_reply", "cmd_send", "cmd_send_sync", "cmd_send_pipelined",
		"projector_catchup", "query_inbox", "query_inbox_small", "policy_close", "rebuild", "rebuild_rate",
		"cmd_send_auth", "query_inbox_auth", "raw_occ_endpoint", "cmd_send_durable", "intake",
		"projector_catchup_feed", "feed", "cmd_send_commands_node", "cold_load_long", "cold_load_short", "cold_load_long_heap",
	} {
		f, ok := res.Figures[name]
		if !ok || f.Value <= 0 || f.Count <= 0 || f.Unit == "" {
			t.Errorf("figure %s = %+v (present %v); want a positive value and count with a unit", name, f, ok)
		}
	}
	for _, name := range []string{"cmd_send", "query_inbox"} {
		if f := res.Figures[name]; f.P50ms <= 0 || f.P99ms < f.P50ms {
			t.Errorf("%s latencies p50 %vms p99 %vms; want 0 < p50 <= p99", name, f.P50ms, f.P99ms)
		}
	}
	for _, name := range []string{"cmd_send/raw_js_async_pub", "projector_catchup/raw_ordered_consume",
		"cmd_send_auth/cmd_send_pipelined cpu_per_op", "query_inbox_auth/query_inbox cpu_per_op",
		"cmd_send/raw_occ_endpoint", "cmd_send/raw_occ_endpoint cpu_per_op", "cmd_send/raw_request_reply+raw_js_async_pub cpu_per_op",
		"query_inbox/raw_request_reply cpu_per_op", "query_inbox/query_inbox_small cpu_per_op",
		"cmd_send_durable/cmd_send", "cmd_send_durable/cmd_send cpu_per_op",
		"intake/raw_js_async_pub", "intake/cmd_send cpu_per_op", "projector_catchup_feed/projector_catchup cpu_per_op",
		"cmd_send_commands_node/raw_occ_endpoint cpu_per_op", "cmd_send_commands_node/cmd_send_pipelined cpu_per_op"} {
		if r, ok := res.Ratios[name]; !ok || r.Value <= 0 {
			t.Errorf("ratio %s = %v (present %v); want positive", name, r.Value, ok)
		}
	}
	if len(res.Targets) != 22 || res.Targets[0].Pass == nil {
		t.Errorf("targets: %+v; want 22, each with pass", res.Targets)
	}
	if res.Environment.CPUs <= 0 {
		t.Error("the environment must say how many CPUs the figures were taken on")
	}
	for _, phase := range []string{"raw_js_async_pub", "projector_catchup", "projector_catchup_feed", "cmd_send_sync", "feed",
		"policy_close", "rebuild"} {
		if !strings.Contains(errOut.String(), "bench: "+phase+" started") {
			t.Errorf("stderr does not show phase %s:\n%s", phase, errOut.String())
		}
	}
}

// Without --json the figures come as a table with PASS or MISS per target.
func TestBenchTable(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"bench", "--quick", "--duration", "200ms", "--backlog", "300", "--intake-backlog", "300", "--inbox-store", "300", "--close", "100"}
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"figure", "cmd_send_pipelined", "projector_catchup / raw_ordered_consume", "policy_close", "target",
		"raw_occ_endpoint", "cmd_send / raw_occ_endpoint", "cmd_send_durable / cmd_send", "query_inbox flat", "cmd_send cpu/op",
		"cmd_send_auth / cmd_send_pipelined (cpu/op)", "query_inbox_auth / query_inbox (cpu/op)", "identities: ",
		"intake / raw_js_async_pub", "intake/raw_js_async_pub", "feed projector cpu/op", "projector_catchup_feed",
		"cmd_send_commands_node cpu/op", "cmd_send_commands_node / raw_occ_endpoint (cpu/op)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(out.String(), "PASS") && !strings.Contains(out.String(), "MISS") {
		t.Errorf("table has no PASS or MISS:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "store of 300 conversations") {
		t.Errorf("--inbox-store must survive --quick:\n%s", out.String())
	}
}
