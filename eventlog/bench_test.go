package eventlog_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
)

func BenchmarkAppend(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	var last uint64
	data := make([]byte, 300)
	b.ResetTimer()
	for i := range b.N {
		seq, _, err := f.log.Append(ctx, conv(1), last, fmt.Sprint(i), data)
		if err != nil {
			b.Fatal(err)
		}
		last = seq
	}
}

func BenchmarkLoad(b *testing.B) {
	for _, path := range []struct {
		name string
		new  func(testing.TB) *fixture
	}{{"direct", newFixture}, {"ordered", newFixtureWithoutDirect}} {
		f := path.new(b)
		f.bulk(b, 3000, 3) // conv(0..2): 1000 messages each
		for _, tc := range []struct {
			name    string
			subject string
			after   uint64
			want    int
		}{
			{"empty", conv(7), 0, 0},
			{"caught-up", conv(0), 2998, 0},
			{"10", conv(0), 2970, 10},
			{"1000", conv(0), 0, 1000},
		} {
			b.Run(path.name+"/"+tc.name, func(b *testing.B) {
				for range b.N {
					msgs, err := f.log.Load(context.Background(), tc.subject, tc.after)
					if err != nil || len(msgs) != tc.want {
						b.Fatalf("Load = %d messages, %v; want %d", len(msgs), err, tc.want)
					}
				}
			})
		}
	}
}

func BenchmarkRead(b *testing.B) {
	f := newFixture(b)
	const n = 50000
	f.bulk(b, n, 1000)
	b.ResetTimer()
	for range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		seen := 0
		err := f.log.Read(ctx, 1, 256, func(batch []events.Message) error {
			if seen += len(batch); seen == n {
				cancel()
			}
			return nil
		})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkAppendParallel is the command path's load on the log: 512
// goroutines (256 per CPU on the 2-CPU VM), each appending to its own
// subject after its last sequence. cpu-µs/op is the CPU of the whole
// process (the embedded server included) per append.
func BenchmarkAppendParallel(b *testing.B) {
	f := newFixture(b)
	appendParallel(b, f.log)
}

// BenchmarkAppendParallelSigned is BenchmarkAppendParallel on a log that
// signs every append, as a node's does: the difference is the cost of the
// signatures.
func BenchmarkAppendParallelSigned(b *testing.B) {
	f := newFixture(b)
	l, _ := f.signed(b)
	appendParallel(b, l)
}

func appendParallel(b *testing.B, log *eventlog.Log) {
	ctx := context.Background()
	data := make([]byte, 560)
	var next atomic.Int64
	b.SetParallelism(512 / runtime.GOMAXPROCS(0))
	start := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		subject := conv(int(next.Add(1)))
		var last uint64
		for i := 0; pb.Next(); i++ {
			seq, _, err := log.Append(ctx, subject, last, fmt.Sprint(subject, i), data)
			if err != nil {
				b.Error(err)
				return
			}
			last = seq
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-start).Microseconds())/float64(b.N), "cpu-µs/op")
}

// processCPU is the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
