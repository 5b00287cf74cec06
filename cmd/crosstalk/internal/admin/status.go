package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/jsonout"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/nats-io/nats.go"
)

// statusFunc asks one status: of whichever node answers the query, or of
// one node.
type statusFunc func(ctx context.Context) (api.Status, error)

// queryStatus asks crosstalk.query.status, which a node with the queries
// role answers.
func queryStatus(c *client.Client) statusFunc {
	return func(ctx context.Context) (api.Status, error) {
		var st api.Status
		err := c.Query(ctx, api.QueryStatus, api.QueryBase{}, &st)
		return st, err
	}
}

// NoNode makes a request to a node id that nobody answers say so.
func NoNode(id string, err error) error {
	if id != "" && errors.Is(err, nats.ErrNoResponders) {
		return fmt.Errorf("no node %q answers (no responders on %s): 'crosstalk status' lists the nodes",
			id, strings.TrimSuffix(api.AdminNodeStatus(id), ".status")+".>")
	}
	return err
}

// ShowStatus prints the status of whichever node answers, or of node id.
func ShowStatus(ctx context.Context, url string, creds node.Credentials, id string, asJSON bool, stdout io.Writer) error {
	s, err := connect(ctx, url, "crosstalk status", creds)
	if err != nil {
		return err
	}
	defer s.close()
	c := client.New(s.nc)
	status := queryStatus(c)
	if id != "" {
		status = func(ctx context.Context) (api.Status, error) { return c.NodeStatus(ctx, id) }
	}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	st, err := status(ctx)
	if err != nil {
		return NoNode(id, s.refused(err))
	}
	if asJSON {
		return jsonout.Write(stdout, st)
	}
	WriteStatus(stdout, st)
	return nil
}

// WriteStatus prints st for people.
func WriteStatus(w io.Writer, st api.Status) {
	fmt.Fprintf(w, "node %s, roles %s\n", st.Node, strings.Join(st.Roles, ","))
	if st.Views {
		fmt.Fprintf(w, "read model at seq %d of %d (lag %d)\n", st.ViewsCheckpoint, st.StreamLastSeq, st.Lag)
	} else {
		fmt.Fprintf(w, "no read model; the log is at seq %d\n", st.StreamLastSeq)
	}
	fmt.Fprintf(w, "nodes (%d):\n", len(st.Nodes))
	for _, n := range st.Nodes {
		fmt.Fprintf(w, "  %-20s %s\n", n.Node, strings.Join(n.Roles, ","))
	}
	names := make([]string, 0, len(st.Leases))
	for name := range st.Leases {
		names = append(names, name)
	}
	slices.Sort(names)
	fmt.Fprintf(w, "leases (%d held):\n", len(names))
	for _, name := range names {
		l := st.Leases[name]
		fmt.Fprintf(w, "  %-8s %s (term %d, since %s)\n", name, l.Node, l.Term, l.Since.Format(time.RFC3339))
	}
}
