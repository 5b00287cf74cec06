package main

import (
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/admin"
	"github.com/crosstalk-dev/crosstalk/node"
)

func newViewsCommand(stdout, stderr io.Writer) *cobra.Command {
	var url string
	var creds node.Credentials
	cmd := &cobra.Command{
		Use:   "views",
		Short: "Repair a running node's read model",
	}
	addServiceFlags(cmd.PersistentFlags(), &url, &creds)
	var opts admin.RebuildOptions
	rebuild := &cobra.Command{
		Use:   "rebuild",
		Short: "Rebuild the read model from the log while the node keeps answering (crosstalk.admin.views.rebuild)",
		Long: `rebuild asks crosstalk.admin.views.rebuild (admins only) to rebuild the read
model into a second directory while the current one keeps answering, and to
swap the rebuilt one in once it has caught up with the log. A rebuild already
running is joined, not started twice. It then polls crosstalk.query.status
every --interval and shows the progress on stderr (a bar on a terminal, plain
lines otherwise) until the rebuild is done or failed.

Each serve process keeps its own read model: the request is answered by one
of them, unless --node names the node (its id, as 'crosstalk status' lists
them): then crosstalk.admin.node.<id>.views.rebuild rebuilds that node's and
its crosstalk.admin.node.<id>.status shows the progress. Interrupting the
command (SIGINT) stops watching, not the rebuild.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return admin.RebuildViews(cmd.Context(), url, creds, opts, stdout, stderr)
		},
	}
	f := rebuild.Flags()
	f.DurationVar(&opts.Interval, "interval", 500*time.Millisecond, "how often to ask for the rebuild's progress")
	f.DurationVar(&opts.Timeout, "timeout", 0, "give up waiting with an error after this long (0: never)")
	f.StringVar(&opts.Node, "node", "", "rebuild this node's read model (its id, --node-id of serve) rather than whichever node answers")
	cmd.AddCommand(rebuild)
	return cmd
}
