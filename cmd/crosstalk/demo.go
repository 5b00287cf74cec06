package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/service"
)

func newDemoCommand(stdout, stderr io.Writer) *cobra.Command {
	var dir, listen string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Play the December 2023 Instagram-Messenger disconnect end to end",
		Long: `demo starts crosstalk on an embedded nats-server and a Pebble store (in a
temporary directory unless --data is given) and plays the seed story through
NATS requests, exactly as producers would send them, on a simulated clock that
runs from 2020 to December 2023:

  policy v1 (2020) lets Instagram and Messenger talk; an Instagram and a
  Messenger account chat, read each other and see each other's activity;
  policy v2 (effective 2023-12-14) is published two days early and takes effect
  when the clock passes it; the cross-app conversation is closed by policy; new
  cross-app conversations and calls are refused; the old history is still
  listed; the Messenger account loses the Instagram account's activity status
  and read receipts; same-app chat carries on; and the JetStream history from
  before the policy is shown byte-identical after it: its audit checksum
  (as crosstalk audit checksum prints it) is the same before and after.

Every expectation is checked; the demo exits non-zero if one fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelInfo
			}
			return runDemo(cmd.Context(), dir, listen, stdout, newLogger(stderr, level))
		},
	}
	cmd.Flags().StringVar(&dir, "data", "", "keep the demo's data in this directory (default: a temporary directory, removed afterwards)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "client address of the embedded nats-server (port 0 picks a free one)")
	cmd.Flags().BoolVar(&verbose, "verbose", false, "show the service's logs")
	return cmd
}

func runDemo(ctx context.Context, dir, listen string, stdout io.Writer, logger *slog.Logger) (err error) {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "crosstalk-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	clock := service.NewSimClock(seed.Start)
	n, err := node.Start(ctx, node.Options{
		Dir: dir, Listen: listen, Logger: logger,
		Service: service.Options{Clock: clock, PolicyCheckInterval: 20 * time.Millisecond, CloseGrace: 100 * time.Millisecond},
	})
	if err != nil {
		return err
	}
	stop, err := n.Background(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stop()) }()
	fmt.Fprintf(stdout, "crosstalk demo: embedded NATS at %s, data in %s\n", n.Conn().ConnectedUrl(), dir)
	story := seed.New(seed.Config{Client: client.New(n.Conn()), Clock: clock, Log: n.Log(), Out: stdout})
	return story.Play(ctx)
}
