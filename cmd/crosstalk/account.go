package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/admin"
	"github.com/crosstalk-dev/crosstalk/node"
)

func newAccountCommand(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "account",
		Short: "An account's rights over its data: export (GDPR art. 15 and 20)",
	}
	cmd.AddCommand(newAccountExportCommand(stdout, stderr))
	return cmd
}

func newAccountExportCommand(stdout, stderr io.Writer) *cobra.Command {
	var url, account, out string
	var creds node.Credentials
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write everything an account wrote and may see as JSON lines, texts opened",
		Long: `export asks crosstalk.query.export, page after page, and writes each item as
one JSON object a line (api.ExportItem): the event's id, type, time,
conversation, actor, the policy version in force when it was decided, and
its data with sealed texts and reactions opened. An item whose content was
erased has it empty and "erased" says why (docs/erasure.md). The account
itself, its app's backend and the admin may ask. --out FILE is written
readable by its owner only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return admin.ExportAccount(cmd.Context(), url, creds, account, out, stdout, stderr)
		},
	}
	f := cmd.Flags()
	addServiceFlags(f, &url, &creds)
	f.StringVar(&account, "account", "", "the account, <app>:<handle>")
	f.StringVar(&out, "out", "", "write the lines to this file instead of stdout")
	_ = cmd.MarkFlagRequired("account")
	return cmd
}
