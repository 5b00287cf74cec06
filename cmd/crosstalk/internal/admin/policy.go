package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/jsonout"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/node"
)

// PublishPolicyFile checks the policy at path locally, then publishes it;
// its command id comes from the bytes, so publishing it again is a duplicate.
func PublishPolicyFile(ctx context.Context, url string, creds node.Credentials, path string, stdout io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if _, err := aggregate.ParsePolicy(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	s, err := connect(ctx, url, "crosstalk policy", creds)
	if err != nil {
		return err
	}
	defer s.close()
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	id := client.PolicyCommandID(data)
	r, err := client.New(s.nc).PublishPolicy(ctx, id, json.RawMessage(data))
	if err != nil {
		return s.refused(err)
	}
	dup := ""
	if r.Duplicate {
		dup = " (already published: duplicate)"
	}
	fmt.Fprintf(stdout, "published policy version %d as event %s at stream seq %d (position %s)%s\n", r.Version, r.EventID, r.StreamSeq, r.Position, dup)
	return nil
}

// PolicyOptions are the flags of 'crosstalk policy status'.
type PolicyOptions struct {
	JSON     bool          // print the report as indented JSON instead of a table
	Watch    bool          // poll until the policy in force is applied and none is scheduled
	Interval time.Duration // how often --watch asks; default 500ms
	Timeout  time.Duration // how long --watch may wait; 0 means no limit
}

// PolicyStatus prints the report of crosstalk.query.policy, or with
// opts.Watch follows it until it is settled.
func PolicyStatus(ctx context.Context, url string, creds node.Credentials, opts PolicyOptions, stdout, stderr io.Writer) error {
	if opts.Interval <= 0 {
		return fmt.Errorf("--interval must be positive, got %s", opts.Interval)
	}
	s, err := connect(ctx, url, "crosstalk policy", creds)
	if err != nil {
		return err
	}
	defer s.close()
	c := client.New(s.nc)
	if opts.Watch {
		return s.refused(watchPolicy(s.ctx, c, opts, stdout, stderr))
	}
	rep, err := queryPolicyReport(s.ctx, c)
	if err != nil {
		return s.refused(err)
	}
	return writePolicyReport(stdout, rep, opts.JSON)
}

// queryPolicyReport asks crosstalk.query.policy for every version, page
// after page.
func queryPolicyReport(ctx context.Context, c *client.Client) (api.PolicyReport, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var all api.PolicyReport
	for q := (api.PolicyQuery{}); ; {
		var rep api.PolicyReport
		if err := c.Query(ctx, "policy", q, &rep); err != nil {
			return api.PolicyReport{}, err
		}
		all.Current, all.Versions = rep.Current, append(all.Versions, rep.Versions...)
		if q.Cursor = rep.NextCursor; q.Cursor == "" {
			return all, nil
		}
	}
}

func writePolicyReport(w io.Writer, rep api.PolicyReport, asJSON bool) error {
	if !asJSON {
		writePolicyTable(w, rep)
		return nil
	}
	return jsonout.Write(w, rep)
}

func writePolicyTable(w io.Writer, rep api.PolicyReport) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "VERSION\tNAME\tEFFECTIVE AT\tSTATE\tCLOSED\tAFFECTED\tAPPLIED\n")
	for _, v := range rep.Versions {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%v\n", v.Version, v.Name, v.EffectiveAt.Format(time.RFC3339),
			policyState(v), v.Closed, v.Affected, v.Applied)
	}
	tw.Flush()
	fmt.Fprintf(w, "current version: %d\n", rep.Current)
}

// policyState is the STATE column: "scheduled for <time>", "in force" or
// "superseded".
func policyState(v api.PolicyStatus) string {
	switch {
	case v.InForce:
		return "in force"
	case v.Effective:
		return "superseded"
	}
	return "scheduled for " + v.EffectiveAt.Format(time.RFC3339)
}
