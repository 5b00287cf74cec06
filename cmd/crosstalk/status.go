package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/admin"
	"github.com/crosstalk-dev/crosstalk/node"
)

func newStatusCommand(stdout io.Writer) *cobra.Command {
	var url, id string
	var creds node.Credentials
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a node's status: its read model, the nodes it sees and who holds each lease",
		Long: `status asks crosstalk.query.status, which a node with the queries role
answers, and prints the answering node's id and roles, how far its read model
is behind the log, the nodes of the service it sees (their ids and roles) and
who holds each singleton's lease (closer, intake).

With --node ID it asks crosstalk.admin.node.<ID>.status (admins only), which
that node answers alone, also one without the queries role; a node that is
not there is an error at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return admin.ShowStatus(cmd.Context(), url, creds, id, asJSON, stdout)
		},
	}
	f := cmd.Flags()
	addServiceFlags(f, &url, &creds)
	f.StringVar(&id, "node", "", "ask this node (its id, --node-id of serve) rather than whichever answers the query")
	f.BoolVar(&asJSON, "json", false, "print the reply (api.Status) as indented JSON")
	return cmd
}
