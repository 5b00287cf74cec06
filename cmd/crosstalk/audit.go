package main

import (
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/history"
	"github.com/crosstalk-dev/crosstalk/node"
)

func newAuditCommand(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Prove what the history holds: hash chains, views, checksums",
		Long: `audit reads crosstalk's history from the outside of the service and reports
what it finds, without changing it.

  verify    walks every event and checks each subject's hash chain, and that
            the Pebble views hold the stream's events byte for byte
  checksum    one deterministic sha256 over the history up to a sequence
  public-key  prints the public key of a node's signing key, for verify
  timeline    every event of a conversation or account, the policy boundary
              marked (--html writes a page)
  visibility  what a viewer could see at an instant, by the policy then in force
  policy      what a policy version closed and which commands it refused
  export      the whole log as JSON lines that 'crosstalk replay' reads back

Each reads a stopped node's data directory (--data, the default) through an
embedded nats-server of its own, or a running NATS server (--nats-url). Under
crosstalk's identity configuration, read a running server as the auditor
(--user auditor --password ..., or --creds): it reads its own copies of the
streams, mirrors in its account AUDIT that serve makes, once they hold what
the originals held when the command started, and changes nothing.`,
	}
	cmd.AddCommand(newAuditVerifyCommand(stdout, stderr), newAuditChecksumCommand(stdout, stderr))
	cmd.AddCommand(newAuditPublicKeyCommand(stdout, stderr))
	cmd.AddCommand(newAuditExportCommand(stdout, stderr))
	cmd.AddCommand(newAuditTimelineCommand(stdout, stderr), newAuditVisibilityCommand(stdout, stderr),
		newAuditPolicyCommand(stdout, stderr))
	return cmd
}

// addTargetFlags adds the flags that choose what an audit reads: a data
// directory or a server, not both.
func addTargetFlags(cmd *cobra.Command, t *history.Target) {
	addSourceFlags(cmd, t)
	cmd.MarkFlagsMutuallyExclusive("data", "nats-url")
}

// addSourceFlags adds the flags of addTargetFlags; verify takes both
// --data and --nats-url (a cluster node's views against its cluster).
func addSourceFlags(cmd *cobra.Command, t *history.Target) {
	f := cmd.Flags()
	f.StringVar(&t.DataDir, "data", node.DefaultDir,
		"data directory of a stopped crosstalk node (JetStream under DIR/jetstream, views under DIR/views)")
	f.StringVar(&t.NatsURL, "nats-url", "", "read the stream of this running NATS server instead (JetStream only)")
	addCredentialFlags(f, &t.Credentials)
	f.BoolVar(&t.JSON, "json", false, "print the result as indented JSON")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		return onlineUnlessData(cmd.Flags(), &t.NatsURL, t.Credentials)
	}
}

func newAuditVerifyCommand(stdout, stderr io.Writer) *cobra.Command {
	t := history.Target{Logger: newLogger(stderr, slog.LevelWarn)}
	var sig history.Signatures
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check every subject's hash chain, and that the views hold the stream byte for byte",
		Long:  auditVerifyLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t.ViewsOnline = t.NatsURL != "" && cmd.Flags().Changed("data")
			return history.Verify(cmd.Context(), t, sig, stdout, stderr)
		},
	}
	addSourceFlags(cmd, &t)
	addSignatureFlags(cmd, &sig)
	return cmd
}

func newAuditChecksumCommand(stdout, stderr io.Writer) *cobra.Command {
	t := history.Target{Logger: newLogger(stderr, slog.LevelWarn)}
	var until uint64
	var untils []uint
	cmd := &cobra.Command{
		Use:   "checksum",
		Short: "Print one deterministic sha256 over the history up to a sequence",
		Long: `checksum prints one sha256 over the stream's events from seq 1 to --until-seq
(default: the last), the number of events and the last sequence covered.

The same history always gives the same sum, and events appended later do not
change it. Take it before a policy change and again after it with
--until-seq set to the last sequence before the change: equal sums prove that
the change rewrote nothing before it.

The format, to recompute it without crosstalk: sha256 over, for each message
in stream order, seq (8 bytes big-endian), len(subject) (8 bytes big-endian),
the stream subject, len(data) (8 bytes big-endian) and the stored body.

With --data DIR (the default, ./crosstalk-data) it reads a stopped node's
JetStream through an embedded nats-server of its own; 'crosstalk serve' must
not be running on DIR. With --nats-url it reads a running NATS server.

On a partitioned log (serve --partitions N) each stream, CROSSTALK_P0 …
CROSSTALK_P{N-1} and CROSSTALK_POLICY, is summed as above with its own
sequences, up to its entry of --until-seqs (default: each one's last), and
the sum is the sha256 of one line per stream in that order,
"<stream> <until seq> <stream sum>\n": the lines it prints after "streams:".

Exit status: 0 when the sum was computed; non-zero when the history could
not be read or --until-seq is past the end of the stream.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return history.Checksum(cmd.Context(), t, untilSeqs(until, untils), stdout, stderr)
		},
	}
	addTargetFlags(cmd, &t)
	cmd.Flags().Uint64Var(&until, "until-seq", 0, "last stream sequence to cover (0: the stream's last)")
	cmd.Flags().UintSliceVar(&untils, "until-seqs", nil,
		"on a partitioned log, the last sequence to cover of each stream, in order P0,…,P{N-1},POLICY")
	cmd.MarkFlagsMutuallyExclusive("until-seq", "until-seqs")
	return cmd
}

// untilSeqs is what --until-seq or --until-seqs asks ChecksumStreams for.
func untilSeqs(until uint64, untils []uint) []uint64 {
	if untils == nil {
		return []uint64{until}
	}
	seqs := make([]uint64, len(untils))
	for i, u := range untils {
		seqs[i] = uint64(u)
	}
	return seqs
}

// auditVerifyLong is the --help of AuditVerify.
const auditVerifyLong = `verify walks the stream CROSSTALK from seq 1 to its last sequence and proves,
for every event:

  - its body is a crosstalk CloudEvent (else: undecodable);
  - its prevhash is the sha256 of the previous stored event body on the same
    subject, "" for a subject's first event (else: prevhash);
  - its streamversion is its position on the subject, 1, 2, 3, ... (else:
    streamversion);
  - no stream sequence is missing (else: gap).

Because each event's hash covers the previous one, an event that was changed,
removed or inserted on a subject breaks its chain where it happened.

With --public-key FILE (repeatable: the current key and those before a
rotation; 'crosstalk audit public-key' prints them) it also proves that the
service appended each event: every event's Crosstalk-Signature header must
verify under one of the keys for its subject and stored bytes (else:
signature), and every event from --signed-from SEQ on must have one (else:
unsigned). Without --signed-from, signatures are required from the first
signed event on, and unsigned events before it (from before the service
signed) are counted. Without --public-key, signatures are not checked, and
verify says so.

With --data DIR (the default, ./crosstalk-data) verify reads a stopped node:
'crosstalk serve' must not be running on DIR. It starts an embedded
nats-server of its own on DIR on a free loopback port and also checks the
Pebble views in DIR/views: every event up to the views' checkpoint must have
a hist/ entry byte-identical to it (else: missing_in_views, differs_in_views),
and the views must hold no event that the stream lacks (else:
extra_in_views, views_ahead).

With --nats-url URL it reads the stream of a running NATS server; the views
of the nodes behind it are not checked. With --data DIR and --nats-url URL
both, it checks the views in DIR/views of a stopped cluster node (serve's
layout; the node ran with --nats-url on that cluster) against the stream of
the server at URL, as above. The node must be stopped: while it runs it
holds the lock of its views, and verify refuses the directory as in use.
The rest of the cluster may go on; events appended after the node stopped
lie beyond its views' checkpoint and are not compared.

It prints "subjects: N, events: N, views checked: N, breaks: N" and each
break with its stream sequence, subject and kind (--json: the whole report).

Exit status: 0 when the history verified without a break; non-zero when
there is a break or the history could not be read.`
