package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/service"
)

// policyNamespace derives a command id from a policy file's bytes, so that
// publishing the same file twice is one publication, answered as a duplicate.
var policyNamespace = uuid.MustParse("6f2c4a8e-0d7b-4c55-9b1e-3f7a1d2c9e40")

func newPolicyCommand(stdout, _ io.Writer) *cobra.Command {
	var url string
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Publish policies and watch them take effect",
	}
	cmd.PersistentFlags().StringVar(&url, "nats-url", nats.DefaultURL, "NATS server where crosstalk serves")
	publish := &cobra.Command{
		Use:   "publish FILE",
		Short: "Publish a policy file (JSON, see docs/policies/) through crosstalk.admin.policy.publish",
		Long: `publish validates FILE locally, then sends it to crosstalk.admin.policy.publish.
The command id is derived from the file's bytes, so publishing the same file
again is answered as a duplicate rather than refused. Closing the conversations
the policy no longer allows runs after the reply; follow it with
'crosstalk policy status'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return publishPolicyFile(cmd.Context(), url, args[0], stdout)
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show every published policy version: effective or scheduled, closed, applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printPolicyStatus(cmd.Context(), url, stdout)
		},
	}
	cmd.AddCommand(publish, status)
	return cmd
}

func publishPolicyFile(ctx context.Context, url, path string, stdout io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if _, err := aggregate.ParsePolicy(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	nc, err := nats.Connect(url, nats.Name("crosstalk policy"))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", url, err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	id := uuid.NewSHA1(policyNamespace, data).String()
	r, err := client.New(nc).PublishPolicy(ctx, id, json.RawMessage(data))
	if err != nil {
		return err
	}
	dup := ""
	if r.Duplicate {
		dup = " (already published: duplicate)"
	}
	fmt.Fprintf(stdout, "published policy version %d as event %s at stream seq %d%s\n", r.Version, r.EventID, r.StreamSeq, dup)
	return nil
}

func printPolicyStatus(ctx context.Context, url string, stdout io.Writer) error {
	nc, err := nats.Connect(url, nats.Name("crosstalk policy"))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", url, err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var rep service.PolicyReport
	if err := client.New(nc).Query(ctx, "policy", struct{}{}, &rep); err != nil {
		return err
	}
	writePolicyTable(stdout, rep)
	return nil
}

func writePolicyTable(w io.Writer, rep service.PolicyReport) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "VERSION\tNAME\tEFFECTIVE AT\tSTATE\tCLOSED\tAFFECTED\tAPPLIED\n")
	for _, v := range rep.Versions {
		state := "scheduled"
		switch {
		case v.InForce:
			state = "in force"
		case v.Effective:
			state = "superseded"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%v\n", v.Version, v.Name, v.EffectiveAt.Format(time.RFC3339), state, v.Closed, v.Affected, v.Applied)
	}
	tw.Flush()
	fmt.Fprintf(w, "current version: %d\n", rep.Current)
}
