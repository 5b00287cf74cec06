package main

import (
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/version"
)

func newVersionCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print this build's version, revision and Go version (as --version does)",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			_, _ = io.WriteString(stdout, version.Read().String()+"\n")
		},
	}
}

// newRootCommand builds the command tree. cobra gives subcommands, flags and
// --help text without hand-written parsing.
func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "crosstalk",
		Short: "Event-sourced cross-app chat whose links are switched by versioned policy",
		Long: `crosstalk is the reference implementation of policy-switched cross-app chat:
every chat action is a command over NATS that becomes an event on JetStream (the
only source of truth), projectors build inbox, message, presence and history
views in Pebble, and a policy change is a versioned event that closes the
cross-app conversations it no longer allows without rewriting any history.

Start with 'crosstalk demo' to watch the December 2023 Instagram-Messenger
disconnect play out, or 'crosstalk serve' to run the service.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.Read().String(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newSoakCommand(stdout, stderr))
	root.AddCommand(newBenchCommand(stdout, stderr))
	root.AddCommand(newReplayCommand(stdout, stderr))
	root.AddCommand(newAuthCommand(stdout, stderr))
	root.AddCommand(newViewsCommand(stdout, stderr), newStatusCommand(stdout), newAccountCommand(stdout, stderr))
	root.AddCommand(newKeysCommand(stdout, stderr), newVersionCommand(stdout))
	root.AddCommand(newBackupCommand(stdout, stderr), newRestoreCommand(stdout, stderr))
	root.AddCommand(newServeCommand(stdout, stderr), newDemoCommand(stdout, stderr), newPolicyCommand(stdout, stderr), newAuditCommand(stdout, stderr))
	return root
}

// newLogger logs to stderr, as text for people.
func newLogger(stderr io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}
