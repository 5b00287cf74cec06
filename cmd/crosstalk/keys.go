package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/history"
	"github.com/crosstalk-dev/crosstalk/node"
)

func newKeysCommand(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the master key that wraps the keys sealing message content",
		Long: `crosstalk seals message text, edits and reactions with keys kept in the
stream CROSSTALK_KEYS, each wrapped by the master key: DIR/master.key (or
the file given to 'serve --master-key'), the same file on every node, backed
up apart from the streams (docs/erasure.md, docs/operations.md).`,
	}
	cmd.AddCommand(newKeysRotateCommand(stdout, stderr), newKeysReeraseCommand(stdout, stderr))
	return cmd
}

func newKeysRotateCommand(stdout, stderr io.Writer) *cobra.Command {
	var src node.Source
	var keyFile string
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Replace the master key, rewrapping every key under the new one",
		Long: `rotate writes a new master key first in the master key file, rewraps every
key in CROSSTALK_KEYS under it (securely deleting the records the old key
wrapped), then drops the old key from the file. Stop every node first; then
copy the file to every node before starting them again. A rotation that was
interrupted goes on where it stopped when run again.

  crosstalk keys rotate --data DIR              the stopped node in DIR
  crosstalk keys rotate --nats-url URL --master-key FILE   a cluster's streams`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := onlineUnlessData(cmd.Flags(), &src.URL, src.Credentials); err != nil {
				return err
			}
			logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			n, id, err := node.RotateMasterKey(context.Background(), src, keyFile, logger)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "rotated: %d keys rewrapped under master key %s\n", n, id)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&src.Dir, "data", node.DefaultDir, "data directory of a stopped crosstalk node (its master key is DIR/master.key)")
	f.StringVar(&keyFile, "master-key", "", "the master key file (default: DIR/master.key)")
	addServiceFlags(f, &src.URL, &src.Credentials)
	return cmd
}

func newKeysReeraseCommand(stdout, stderr io.Writer) *cobra.Command {
	t := history.Target{Logger: newLogger(stderr, slog.LevelWarn)}
	var keyFile string
	cmd := &cobra.Command{
		Use:   "reerase",
		Short: "Apply every erasure the log records to the keys again, after a restore of CROSSTALK_KEYS",
		Long: `reerase reads the log for every erasure it records (account.erased,
message.unsent, content.expired) and applies each to the keys stream again:
the erased account's trees that sealed content written before its erasure,
the unsent messages' leaves, the expired content's leaves. Run it after
restoring CROSSTALK_KEYS from a backup taken before some erasures, before
any node starts: without it, the restored keys would open what was erased.
A tree made after an erasure is left as it is; running it twice changes
nothing the second time.

  crosstalk keys reerase --data DIR                        the stopped node in DIR
  crosstalk keys reerase --nats-url URL --master-key FILE  a cluster's streams`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keyFile == "" {
				keyFile = node.Layout{Dir: t.DataDir}.MasterKey()
			}
			_, err := history.Reerase(cmd.Context(), t, keyFile, stdout)
			return err
		},
	}
	addTargetFlags(cmd, &t)
	cmd.Flags().StringVar(&keyFile, "master-key", "", "the master key file (default: DIR/master.key)")
	return cmd
}
