package main

import (
	"io"
	"log/slog"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/history"
	"github.com/spf13/cobra"
)

// The auditor's questions about what happened: a subject's timeline, what
// an account could see at an instant, and what a policy version did.

func newAuditTimelineCommand(stdout, stderr io.Writer) *cobra.Command {
	t := history.Target{Logger: newLogger(stderr, slog.LevelWarn)}
	var conv, account, htmlFile string
	cmd := &cobra.Command{
		Use:   "timeline (--conversation ID | --account ACCOUNT)",
		Short: "List every event of a conversation or an account, in stream order",
		Long: `timeline lists every event of one conversation (its subject
crosstalk.events.conv.<id>), or of one account (its account subject and every
conversation it takes part in), in stream order: the stream sequence, the
event's time, the actor (the sender, reader, caller, starter or account as the
event type has it; "policy" for a conversation closed by a policy), the type,
the policy version the event was decided under, and one line saying what it
changed, e.g. 'sent <message id> "hello"', 'read up to <message id>' or
'closed by policy v2'. The policies the events were decided under are listed
after the table.

--html FILE also writes the timeline as one self-contained HTML page (inline
CSS, no external resources), with a separator row wherever the policy version
changes and the conversation.closed row highlighted.

With --data DIR (the default, ./crosstalk-data) it reads a stopped node's
JetStream through an embedded nats-server of its own; 'crosstalk serve' must
not be running on DIR. With --nats-url it reads a running NATS server.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return history.Timeline(cmd.Context(), t, conv, account, htmlFile, stdout, stderr)
		},
	}
	addTargetFlags(cmd, &t)
	f := cmd.Flags()
	f.StringVar(&conv, "conversation", "", "conversation id")
	f.StringVar(&account, "account", "", "account, <app>:<handle>")
	f.StringVar(&htmlFile, "html", "", "also write the timeline as an HTML page to this file")
	cmd.MarkFlagsMutuallyExclusive("conversation", "account")
	cmd.MarkFlagsOneRequired("conversation", "account")
	return cmd
}

func newAuditVisibilityCommand(stdout, stderr io.Writer) *cobra.Command {
	t := history.Target{Logger: newLogger(stderr, slog.LevelWarn)}
	var viewer, at string
	cmd := &cobra.Command{
		Use:   "visibility --viewer ACCOUNT --at TIME",
		Short: "Show what an account could see at an instant, by the policy in force then",
		Long: `visibility answers "what could this account see at that time?". It builds the
read model as of --at in a temporary directory: a fresh Pebble store into
which every event whose time is not after --at is applied, in stream order.
Then it asks that store the service's own queries, deciding visibility by the
policy in force at --at:

  - the viewer's inbox;
  - for each of its conversations, every message, the activity status of each
    other participant, and the read receipts the viewer could see; what it
    could not see is listed with the reason: the policy (which version denied
    which app pair), or the other account's own settings.

--at is an RFC 3339 time (2023-12-14T00:00:00Z), or a date (2023-12-13)
meaning the end of that day in UTC (2023-12-13T23:59:59.999999999Z): what
could be seen by the end of that day.

--json prints one JSON object. --data and --nats-url as for 'audit verify';
the node's own views are not used (they are as of now).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return history.Visibility(cmd.Context(), t, viewer, at, stdout, stderr)
		},
	}
	addTargetFlags(cmd, &t)
	cmd.Flags().StringVar(&viewer, "viewer", "", "the account whose view to show, <app>:<handle>")
	cmd.Flags().StringVar(&at, "at", "", "the instant: RFC 3339, or YYYY-MM-DD for the end of that day (UTC)")
	_ = cmd.MarkFlagRequired("viewer")
	_ = cmd.MarkFlagRequired("at")
	return cmd
}

func newAuditPolicyCommand(stdout, stderr io.Writer) *cobra.Command {
	t := history.Target{Logger: newLogger(stderr, slog.LevelWarn)}
	var version uint64
	cmd := &cobra.Command{
		Use:   "policy --version V",
		Short: "Show what a policy version did: when it took effect, what it closed, what it refused",
		Long: `policy reports what one published policy version did:

  - when it was published, its effective_at, and the first event decided
    under it (the first event whose policyversion is V);
  - the conversations it closed: every conversation.closed event with reason
    "policy" and policy_version V (conversation id, stream seq, time);
  - the commands refused under it, from the stream CROSSTALK_AUDIT of
    refused commands (crosstalk.command.rejected.v1 records whose
    policy_version is V): time, actor, action, error code and target.

CROSSTALK_AUDIT is size- and age-limited (400 days by default), so the oldest
refusals may have aged out. --data and --nats-url as for 'audit verify'; with
--data the audit stream is read from the same JetStream store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return history.Policy(cmd.Context(), t, version, stdout, stderr)
		},
	}
	addTargetFlags(cmd, &t)
	cmd.Flags().Uint64Var(&version, "version", 0, "the policy version")
	_ = cmd.MarkFlagRequired("version")
	return cmd
}
