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

It passes when the last quarter's averages are within 25% of the second
quarter's (after warm-up): memory is bounded by the aggregate cache
(--cache-size) and Pebble's cache, not by the history. It exits non-zero when
the counts grow. The documented run is 'crosstalk soak --duration 10m'.`,
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
	f.BoolVar(&asJSON, "json", false, "print the samples and verdict as JSON")
	return cmd
}

func runSoak(ctx context.Context, opts soak.Options, cacheSize int, asJSON bool, stdout, stderr io.Writer) error {
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
	if !res.Flat {
		return fmt.Errorf("soak: heap or goroutines grew (see the samples)")
	}
	return nil
}
