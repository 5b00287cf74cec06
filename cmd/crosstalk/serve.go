package main

import (
	"errors"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/service"
)

func newServeCommand(stdout, stderr io.Writer) *cobra.Command {
	cfg := node.Options{}
	var debug bool
	var cacheSize int
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the crosstalk service (embedded NATS by default)",
		Long: `serve runs crosstalk until SIGINT or SIGTERM: the command, query and admin
endpoints (a NATS micro service named "crosstalk"), the Pebble projector and the
policy scheduler.

By default it starts an embedded nats-server with JetStream, its client port on
--listen and its files under --data/jetstream; the read model lives under
--data/views. With --nats-url it uses an existing NATS server instead; the
stream CROSSTALK is created if missing and checked if present.

serve sets the garbage collector's target to 400% (see docs/performance.md)
unless GOGC is set; GOMEMLIMIT caps the heap as usual.

serve always runs on the wall clock. The simulated clock of 'crosstalk demo'
exists for demos, tests and audits only.

Talk to it with any NATS client, e.g. the nats CLI:
  nats micro ls
  nats req crosstalk.cmd.instagram.conversation.start \
    '{"command_id":"<uuid>","actor":"instagram:alice","participants":["messenger:bob"]}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tuneGC()
			level := slog.LevelInfo
			if debug {
				level = slog.LevelDebug
			}
			cfg.Logger = newLogger(stderr, level)
			cfg.Service = service.Options{Clock: service.WallClock{}, CacheSize: cacheSize}
			n, err := node.Start(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			runErr := n.Run(cmd.Context())
			cfg.Logger.Info("shutting down")
			return errors.Join(runErr, n.Close())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Dir, "data", node.DefaultDir, "directory for the Pebble read model and the embedded JetStream files")
	f.StringVar(&cfg.Listen, "listen", node.DefaultListen, "client address of the embedded nats-server (host:port)")
	f.StringVar(&cfg.NatsURL, "nats-url", "", "use this NATS server instead of the embedded one (e.g. nats://127.0.0.1:4222)")
	f.BoolVar(&cfg.SyncAlways, "sync-always", false, "fsync every JetStream write before acknowledging it (embedded server only), and every batch of the views")
	f.IntVar(&cacheSize, "cache-size", 100_000, "conversations (and, separately, accounts) whose state is kept in memory; bounds the service's memory")
	f.BoolVar(&debug, "debug", false, "log at debug level")
	return cmd
}
