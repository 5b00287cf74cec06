package bench

import (
	"context"
	"errors"
	"flag"
	"github.com/crosstalk-dev/crosstalk/clock"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/service"
)

// closeProfile names a CPU profile of BenchmarkPolicyClose's closing phase
// alone: go test's -cpuprofile would also hold the setup, which starts and
// projects every conversation and costs more than the closing.
var closeProfile = flag.String("close.cpuprofile", "", "write a CPU profile of BenchmarkPolicyClose's closing phase to `file`")

// closeN is how many conversations each BenchmarkPolicyClose run closes.
var closeN = flag.Int("close.n", 20_000, "how many conversations each BenchmarkPolicyClose run closes")

// BenchmarkPolicyClose is policy_close in small: each iteration starts
// -close.n (20,000) cross-app conversations on a fresh embedded broker and Pebble
// store, behind a service running its closer, and measures from moving
// the clock past policy version 2 until crosstalk.query.policy reports it
// applied. cpu-µs/closing is the whole process's CPU (broker, closer,
// projector, Pebble, the polling client) per conversation closed, the
// bench's cpu/op; run it with -benchtime 1x -count N, and GOGC=400 as
// crosstalk bench runs (cmd/crosstalk/gc.go). ns/op is meaningless: the
// timer is stopped, since each run's setup costs more than its closing.
func BenchmarkPolicyClose(b *testing.B) {
	var cpu, wall time.Duration
	var closed int64
	for b.Loop() {
		b.StopTimer()
		fig, err := runPolicyClose(context.Background(), b, *closeN)
		if err != nil {
			b.Fatal(err)
		}
		cpu, wall, closed = cpu+fig.CPU, wall+fig.Elapsed, closed+fig.Count
		b.StartTimer()
	}
	if closed > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(closed), "cpu-µs/closing")
		b.ReportMetric(float64(wall.Microseconds())/float64(closed), "wall-µs/closing")
	}
}

// runPolicyClose runs the bench's policy_close phase on a fresh
// environment, n conversations, under policy version 1 first as the bench
// does, and returns its figure.
func runPolicyClose(ctx context.Context, b *testing.B, n int) (fig Figure, err error) {
	opts := Options{Close: n, Dir: b.TempDir(), Logger: testkit.Quiet(), CPUProfile: *closeProfile}
	opts.EnsureDefaults()
	env, err := startEnv(ctx, opts, envKind{})
	if err != nil {
		return fig, err
	}
	defer func() { err = errors.Join(err, env.close()) }()
	r := &runner{opts: opts, env: env, progress: silent{}}
	store, err := env.openStore("close", nil)
	if err != nil {
		return fig, err
	}
	admin, err := env.connect("crosstalk bench admin")
	if err != nil {
		return fig, err
	}
	cl, clock := client.New(admin), clock.NewSim(serviceStart)
	err = r.withNewService(ctx, store, clock, false, func(ctx context.Context, _ *service.Service) error {
		if _, err := publishPolicy(ctx, cl, "v1-2020-cross-app.json"); err != nil {
			return err
		}
		return r.policyClose(ctx, cl, store, clock)
	})
	fig, _ = r.result.Figure(figClose)
	return fig, err
}
