package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
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
			return publishPolicyFile(cmd.Context(), url, creds, args[0], stdout)
		},
	}
	cmd.AddCommand(publish, newPolicyStatusCommand(&url, &creds, stdout, stderr))
	return cmd
}

func publishPolicyFile(ctx context.Context, url string, creds node.Credentials, path string, stdout io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if _, err := aggregate.ParsePolicy(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	nc, err := node.ConnectWith(url, "crosstalk policy", creds)
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	id := client.PolicyCommandID(data)
	r, err := client.New(nc).PublishPolicy(ctx, id, json.RawMessage(data))
	if err != nil {
		return err
	}
	dup := ""
	if r.Duplicate {
		dup = " (already published: duplicate)"
	}
	fmt.Fprintf(stdout, "published policy version %d as event %s at stream seq %d (position %s)%s\n", r.Version, r.EventID, r.StreamSeq, r.Position, dup)
	return nil
}

// statusOptions are the flags of 'crosstalk policy status'.
type statusOptions struct {
	JSON     bool          // print the report as indented JSON instead of a table
	Watch    bool          // poll until the policy in force is applied and none is scheduled
	Interval time.Duration // how often --watch asks; default 500ms
	Timeout  time.Duration // how long --watch may wait; 0 means no limit
}

func newPolicyStatusCommand(url *string, creds *node.Credentials, stdout, stderr io.Writer) *cobra.Command {
	var opts statusOptions
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
			return policyStatus(cmd.Context(), *url, *creds, opts, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.JSON, "json", false, "print the report (the reply of crosstalk.query.policy) as indented JSON")
	f.BoolVar(&opts.Watch, "watch", false, "wait until the version in force is applied and none is scheduled")
	f.DurationVar(&opts.Interval, "interval", 500*time.Millisecond, "with --watch, how often to ask")
	f.DurationVar(&opts.Timeout, "timeout", 0, "with --watch, give up with an error after this long (0: never)")
	return cmd
}

func policyStatus(ctx context.Context, url string, creds node.Credentials, opts statusOptions, stdout, stderr io.Writer) error {
	if opts.Interval <= 0 {
		return fmt.Errorf("--interval must be positive, got %s", opts.Interval)
	}
	nc, err := node.ConnectWith(url, "crosstalk policy", creds)
	if err != nil {
		return err
	}
	defer nc.Close()
	c := client.New(nc)
	if opts.Watch {
		return watchPolicy(ctx, c, opts, stdout, stderr)
	}
	rep, err := queryPolicyReport(ctx, c)
	if err != nil {
		return err
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
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
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
