package main

import (
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/admin"
	"github.com/crosstalk-dev/crosstalk/node"
)

func newPolicyCommand(stdout, stderr io.Writer) *cobra.Command {
	var url string
	var creds node.Credentials
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Publish policies and watch them take effect",
	}
	addServiceFlags(cmd.PersistentFlags(), &url, &creds)
	publish := &cobra.Command{
		Use:   "publish FILE",
		Short: "Publish a policy file (JSON, see docs/policies/) through crosstalk.admin.policy.publish",
		Long: `publish validates FILE locally, then sends it to crosstalk.admin.policy.publish.
The command id is derived from the file's bytes, so publishing the same file
again is answered as a duplicate rather than refused. Closing the conversations
the policy no longer allows runs after the reply (or once effective_at has
passed); follow it with 'crosstalk policy status --watch'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return admin.PublishPolicyFile(cmd.Context(), url, creds, args[0], stdout)
		},
	}
	cmd.AddCommand(publish, newPolicyStatusCommand(&url, &creds, stdout, stderr))
	return cmd
}

func newPolicyStatusCommand(url *string, creds *node.Credentials, stdout, stderr io.Writer) *cobra.Command {
	var opts admin.PolicyOptions
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every published policy version: scheduled, in force or superseded; closed, applied",
		Long: `status asks crosstalk.query.policy and prints one row per published version:
its state ("scheduled for <time>", "in force" or "superseded"), how many
conversations it closed of those it found affected, and whether it is applied.

With --watch it polls every --interval until the version in force is applied
and no version is scheduled, showing the closer's progress on stderr (a bar on
a terminal, plain lines otherwise), then prints the report. Interrupting it
(SIGINT) stops watching without an error; --timeout makes waiting longer an
error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return admin.PolicyStatus(cmd.Context(), *url, *creds, opts, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.JSON, "json", false, "print the report (the reply of crosstalk.query.policy) as indented JSON")
	f.BoolVar(&opts.Watch, "watch", false, "wait until the version in force is applied and none is scheduled")
	f.DurationVar(&opts.Interval, "interval", 500*time.Millisecond, "with --watch, how often to ask")
	f.DurationVar(&opts.Timeout, "timeout", 0, "with --watch, give up with an error after this long (0: never)")
	return cmd
}
