package bench

import (
	"fmt"
	"strings"
	"time"
)

// Names of the figures that ratios and targets refer to.
const (
	figRawPub      = "raw_js_async_pub"
	figRawConsume  = "raw_ordered_consume"
	figRawRR       = "raw_request_reply"
	figRawOCC      = "raw_occ_endpoint"
	figRawRRInbox  = "raw_request_reply_inbox"
	figCatchup     = "projector_catchup"
	figCatchupFeed = "projector_catchup_feed"
	figFeed        = "feed"
	figSend        = "cmd_send"
	figSendSync    = "cmd_send_sync"
	figSendPiped   = "cmd_send_pipelined"
	figSendAuth    = "cmd_send_auth"
	figSendDurable = "cmd_send_durable"
	// figSendPartitions is cmd_send_pipelined on a log of
	// PartitionsFigure partitions.
	figSendPartitions = "cmd_send_partitions"
	figQuery          = "query_inbox"
	figQuerySmall     = "query_inbox_small"
	figQuery1         = "query_inbox_1client"
	figQueryAuth      = "query_inbox_auth"
	figClose          = "policy_close"
	figRebuildRate    = "rebuild_rate"
	figIntake         = "intake"
)

// The targets of issue 15, all taken in the same run. CPU per operation is
// the stable figure; rates move with the machine.
const (
	wantSendOCC     = 0.6  // cmd_send / raw_occ_endpoint
	wantSendPub     = 0.25 // cmd_send / raw_js_async_pub
	wantSendCPU     = 2.5  // × (raw_request_reply + raw_js_async_pub) cpu/op
	wantSendSyncP99 = 5 * time.Millisecond
	wantCatchup     = 0.25 // projector_catchup / raw_ordered_consume
	wantCatchupCPU  = 12.0 // µs per event (issue 25; 15 before)
	wantQueryCPU    = 3.0  // × raw_request_reply cpu/op
	// wantQueryInboxCPU is issue 25's: query_inbox at most this many times
	// the floor of its own shape, raw_request_reply_inbox, in cpu/op.
	wantQueryInboxCPU = 1.5
	wantQueryP99      = 5 * time.Millisecond
	wantQuery1P99     = 500 * time.Microsecond
	// wantFlat is how much more CPU a query may cost in the large store
	// than in the small one and still count as flat.
	wantFlat       = 1.15
	wantClose      = 3.0  // seconds
	wantRebuildCPU = 25.0 // µs per event
	// wantAuth is how much more CPU per operation a figure may cost with
	// identities than without them.
	wantAuth = 1.15
	// wantIntake is issue 16's aim: intake / raw_js_async_pub.
	wantIntake = 0.3
	// wantDurable is issue 25's aim: cmd_send_durable / cmd_send, what
	// group commit keeps of the throughput under SyncAlways.
	wantDurable = 0.5
	// wantFeed is issue 17's aim: the projector's CPU per event with live
	// feeds published, at most this many times its CPU without.
	wantFeed = 1.2
)

// evaluate computes the ratios and checks the targets. A ratio or target
// whose figures were not measured (the *_auth and cmd_send_durable figures
// with --nats-url) is left out.
func (r *Result) evaluate() {
	r.Ratios, r.Targets = nil, nil
	r.commandTargets()
	r.commandsNodeTargets()
	r.sealedTargets()
	r.projectorTargets()
	r.queryTargets()
	r.closeTarget()
	r.intakeTargets()
	r.coldTargets()
	r.cpuTarget(figSendAuth+" cpu/op", figSendAuth, wantAuth, "", figSendPiped)
	r.cpuTarget(figQueryAuth+" cpu/op", figQueryAuth, wantAuth, "", figQuery)
	r.durableTarget()
}

// durableTarget: cmd_send_durable against cmd_send (issue 25), measured on
// an embedded broker only.
func (r *Result) durableTarget() {
	d, okD := r.sum(MeasureValue, figSendDurable)
	s, okS := r.sum(MeasureValue, figSend)
	if okD && okS {
		r.atLeast(figSendDurable+"/"+figSend, d/s, wantDurable)
	}
}

// commandTargets: cmd_send against its floor (raw_occ_endpoint) and the
// NATS work of a command; cmd_send_sync's tail; cmd_send_durable's cost.
func (r *Result) commandTargets() {
	if v, ok := r.ratio(MeasureValue, figSend, figRawOCC); ok {
		r.atLeast(figSend+"/"+figRawOCC, v, wantSendOCC)
	}
	r.ratio(MeasureCPUPerOp, figSend, figRawOCC)
	if v, ok := r.ratio(MeasureValue, figSend, figRawPub); ok {
		r.atLeast(figSend+"/"+figRawPub, v, wantSendPub)
	}
	r.cpuTarget(figSend+" cpu/op", figSend, wantSendCPU, "", figRawRR, figRawPub)
	r.p99Target(figSendSync, wantSendSyncP99)
	r.ratio(MeasureValue, figSendDurable, figSend)
	r.ratio(MeasureCPUPerOp, figSendDurable, figSend)
	r.ratio(MeasureCPUPerOp, figSendPartitions, figSend)
}

// projectorTargets: catch-up against an ordered consumer, and its CPU per
// event, without feeds and with them against without; the rebuild's CPU
// per event.
func (r *Result) projectorTargets() {
	if v, ok := r.ratio(MeasureValue, figCatchup, figRawConsume); ok {
		r.atLeast(figCatchup+"/"+figRawConsume, v, wantCatchup)
	}
	r.cpuAtMost(figCatchup, wantCatchupCPU, "")
	r.cpuTarget("feed projector cpu/op", figCatchupFeed, wantFeed, " (feeds on against off, issue 17)", figCatchup)
	r.cpuAtMost(figRebuildRate, wantRebuildCPU,
		" (the cpu/op form of the target: its other form, 2 × the rate before, needs a rate from another run)")
}

// queryTargets: an inbox query against one request/reply, its tails, and
// whether it stays flat as the store grows.
func (r *Result) queryTargets() {
	r.cpuTarget(figQuery+" cpu/op", figQuery, wantQueryCPU, "", figRawRR)
	r.cpuTarget(figQuery+" cpu/op against its shape", figQuery, wantQueryInboxCPU, " (issue 25)", figRawRRInbox)
	r.p99Target(figQuery, wantQueryP99)
	r.p99Target(figQuery1, wantQuery1P99)
	env := r.Environment
	r.cpuTarget(figQuery+" flat", figQuery, wantFlat,
		fmt.Sprintf(" (flat: %d → %d conversations)", env.InboxSmall, env.InboxStore), figQuerySmall)
}

// intakeTargets: the durable intake against JetStream's async publish
// (issue 16), and its CPU per command against cmd_send's, which is what
// deciding in batches with no caller waiting saves.
func (r *Result) intakeTargets() {
	if v, ok := r.ratio(MeasureValue, figIntake, figRawPub); ok {
		r.atLeast(figIntake+"/"+figRawPub, v, wantIntake)
	}
	r.ratio(MeasureCPUPerOp, figIntake, figSend)
}

func (r *Result) closeTarget() {
	if f, ok := r.Figure(figClose); ok {
		r.Targets = append(r.Targets, Target{Name: figClose, Want: fmt.Sprintf("<= %gs", wantClose), Got: f.Value,
			Unit: "s", Pass: f.Value <= wantClose})
	}
}

// measureOf is a figure's value or its CPU time per operation in µs.
func measureOf(f Figure, measure string) float64 {
	if measure == MeasureCPUPerOp {
		return cpuPerOpValue(f)
	}
	return f.Value
}

// sum is the total of measure over the figures names; ok only if every one
// was measured and is positive.
func (r *Result) sum(measure string, names ...string) (float64, bool) {
	total := 0.0
	for _, name := range names {
		f, ok := r.Figure(name)
		v := measureOf(f, measure)
		if !ok || v <= 0 {
			return 0, false
		}
		total += v
	}
	return total, true
}

// ratio adds and returns fig / (the sum of bases) of measure.
func (r *Result) ratio(measure, fig string, bases ...string) (float64, bool) {
	f, okF := r.sum(measure, fig)
	b, okB := r.sum(measure, bases...)
	if !okF || !okB {
		return 0, false
	}
	base := strings.Join(bases, "+")
	name := fig + "/" + base
	if measure == MeasureCPUPerOp {
		name += " " + MeasureCPUPerOp
	}
	v := f / b
	r.Ratios = append(r.Ratios, Ratio{Name: name, Figure: fig, Base: base, Measure: measure, Value: v})
	return v, true
}

// atLeast adds the target ratio >= want.
func (r *Result) atLeast(name string, got, want float64) {
	r.Targets = append(r.Targets, Target{Name: name, Want: fmt.Sprintf(">= %g", want), Got: got, Pass: got >= want})
}

// cpuTarget adds the ratio of fig's CPU time per operation to the sum of
// bases', and the target that fig's be at most factor times that sum.
func (r *Result) cpuTarget(name, fig string, factor float64, why string, bases ...string) {
	v, ok := r.ratio(MeasureCPUPerOp, fig, bases...)
	if !ok {
		return
	}
	got, _ := r.sum(MeasureCPUPerOp, fig)
	base, _ := r.sum(MeasureCPUPerOp, bases...)
	of := strings.Join(bases, " + ")
	if len(bases) > 1 {
		of = "(" + of + ")"
	}
	r.Targets = append(r.Targets, Target{Name: name, Want: fmt.Sprintf("<= %g × %s = %.1fµs%s", factor, of, factor*base, why),
		Got: got, Unit: "µs", Pass: v <= factor})
}

// cpuAtMost adds the target that fig cost at most want µs of CPU per
// operation.
func (r *Result) cpuAtMost(fig string, want float64, why string) {
	if got, ok := r.sum(MeasureCPUPerOp, fig); ok {
		r.Targets = append(r.Targets, Target{Name: fig + " cpu/op", Want: fmt.Sprintf("<= %gµs%s", want, why), Got: got,
			Unit: "µs", Pass: got <= want})
	}
}

// p99Target adds the target that fig's p99 latency be at most want.
func (r *Result) p99Target(fig string, want time.Duration) {
	if f, ok := r.Figure(fig); ok && f.P99 > 0 {
		r.Targets = append(r.Targets, Target{Name: fig + " p99", Want: fmt.Sprintf("<= %gms", ms(want)), Got: ms(f.P99),
			Unit: "ms", Pass: f.P99 <= want})
	}
}

// cpuPerOpValue is the CPU time per operation of f in microseconds, 0
// when unknown.
func cpuPerOpValue(f Figure) float64 {
	if f.CPU <= 0 || f.Count <= 0 {
		return 0
	}
	return float64(f.CPU) / float64(time.Microsecond) / float64(f.Count)
}
