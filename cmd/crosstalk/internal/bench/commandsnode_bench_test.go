package bench

import (
	"context"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// BenchmarkCommandsNodeAgainstFloor measures raw_occ_endpoint and
// cmd_send_commands_node alternately, three rounds of each in one
// process, as the bench does them once: for weighing a change to the
// command path against its floor without the whole bench. It reports
// the median of each and their ratio (issue 23 holds it to 2).
func BenchmarkCommandsNodeAgainstFloor(b *testing.B) {
	ctx := context.Background()
	opts := Options{Duration: 3 * time.Second, Logger: testkit.Quiet()}
	opts.EnsureDefaults()
	env, err := startEnv(ctx, opts, envKind{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := env.close(); err != nil {
			b.Error(err)
		}
	}()
	r := &runner{opts: opts, env: env, progress: silent{}}
	var floor, node []float64
	var floorWrites, nodeWrites float64
	for range 3 {
		c0 := testkit.ProcessCounts()
		if err := r.occFloor(ctx, figRawOCC); err != nil {
			b.Fatal(err)
		}
		f := r.result.Figures[len(r.result.Figures)-1]
		floor = append(floor, cpuMicros(f))
		_, floorWrites, _ = testkit.ProcessCounts().Per(c0, int(f.Count))
		svc, err := r.commandsNode(nil)
		if err != nil {
			b.Fatal(err)
		}
		c0 = testkit.ProcessCounts()
		if err := r.sendsBy(ctx, svc, figSendNode, "commands node"); err != nil {
			b.Fatal(err)
		}
		f = r.result.Figures[len(r.result.Figures)-1]
		node = append(node, cpuMicros(f))
		_, nodeWrites, _ = testkit.ProcessCounts().Per(c0, int(f.Count))
	}
	b.Logf("floor cpu-µs/op %v, commands node %v", floor, node)
	b.ReportMetric(floorWrites, "floor-writes/op")
	b.ReportMetric(nodeWrites, "node-writes/op")
	f, n := median(floor), median(node)
	b.ReportMetric(f, "floor-cpu-µs/op")
	b.ReportMetric(n, "node-cpu-µs/op")
	b.ReportMetric(n/f, "node/floor")
}

// cpuMicros is f's CPU per operation in microseconds.
func cpuMicros(f Figure) float64 {
	return float64(f.CPU) / float64(time.Microsecond) / float64(f.Count)
}

// median is the middle of three or more values.
func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
