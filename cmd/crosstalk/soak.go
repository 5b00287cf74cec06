package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/serving"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/jsonout"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/soak"
)

func newSoakCommand(stdout, stderr io.Writer) *cobra.Command {
	var opts soak.Options
	var cacheSize int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "soak",
		Short: "Run a bounded load for a while and check memory and goroutines stay flat",
		Long: `soak starts crosstalk on an embedded nats-server and a Pebble store in a
temporary directory, drives --clients producers (each sends 50 messages in a
conversation, then starts the next) for --duration, and samples the heap in
use and the goroutine count after a GC at regular intervals.

It prints a line per sample as it goes (on stderr). The first --warmup (3m:
JetStream remembers every command id for its 2-minute duplicate window, and
Pebble's memtables and the service's caches fill) is left out of the verdict;
after it, the run passes when the last quarter's averages are within 25% of
the first quarter's: memory is bounded by the aggregate cache (--cache-size)
and Pebble's cache, not by the history. It exits non-zero when the counts
grow. A run too short to take 8 samples after the warm-up (under about 6m
with the default sampling) says so and is not judged. The documented run is
'crosstalk soak --duration 10m'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			serving.TuneGC()
			return runSoak(cmd.Context(), opts, cacheSize, asJSON, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&opts.Duration, "duration", 10*time.Minute, "how long to run")
	f.IntVar(&opts.Clients, "clients", 8, "concurrent producers")
	f.IntVar(&cacheSize, "cache-size", 1000, "aggregates the service keeps in memory")
	f.DurationVar(&opts.Warmup, "warmup", 3*time.Minute, "the start of the run left out of the verdict, while the process warms up")
	f.BoolVar(&asJSON, "json", false, "print the samples and verdict as JSON")
	return cmd
}

func runSoak(ctx context.Context, opts soak.Options, cacheSize int, asJSON bool, stdout, stderr io.Writer) error {
	opts.Progress = func(s soak.Sample) {
		fmt.Fprintf(stderr, "soak: %s  %d commands  live heap %.1f MiB  heap in use %.1f MiB  %d goroutines\n",
			s.At, s.Commands, float64(s.HeapLive)/(1<<20), float64(s.HeapInuse)/(1<<20), s.Goroutines)
	}
	res, err := soak.OnNode(ctx, opts, cacheSize, newLogger(stderr, slog.LevelWarn))
	if err != nil {
		return err
	}
	if asJSON {
		if err := jsonout.Write(stdout, res); err != nil {
			return err
		}
	} else {
		res.WriteTable(stdout)
	}
	switch {
	case !res.Judged:
		fmt.Fprintf(stderr, "soak: not judged: the run ended before %d samples were taken after its %s warm-up; run longer (the documented run is --duration 10m)\n",
			8, res.Warmup)
	case !res.Flat:
		return fmt.Errorf("soak: heap or goroutines grew after the %s warm-up (see the samples)", res.Warmup)
	default:
		fmt.Fprintf(stderr, "soak: flat after the %s warm-up\n", res.Warmup)
	}
	return nil
}
