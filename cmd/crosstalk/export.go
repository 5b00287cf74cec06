package main

import (
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/history"
	"github.com/crosstalk-dev/crosstalk/node"
)

func newAuditExportCommand(stdout, stderr io.Writer) *cobra.Command {
	t := history.Target{Logger: newLogger(stderr, slog.LevelWarn)}
	var until uint64
	var out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the history as JSON lines that replay reads back byte for byte",
		Long:  auditExportLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return history.Export(cmd.Context(), t, until, out, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&t.DataDir, "data", node.DefaultDir,
		"data directory of a stopped crosstalk node (JetStream under DIR/jetstream)")
	f.StringVar(&t.NatsURL, "nats-url", "", "read the stream of this running NATS server instead (JetStream only)")
	addCredentialFlags(f, &t.Credentials)
	f.Uint64Var(&until, "until-seq", 0, "last stream sequence to export (0: the stream's last; one stream only, a partitioned log refuses it)")
	f.StringVar(&out, "out", "", "write the export to this file instead of stdout")
	cmd.MarkFlagsMutuallyExclusive("data", "nats-url")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		return onlineUnlessData(cmd.Flags(), &t.NatsURL, t.Credentials)
	}
	return cmd
}

// auditExportLong is the --help of AuditExport.
const auditExportLong = `export writes the stream's events from seq 1 to --until-seq (default: the
last) as JSON lines, to stdout or to --out FILE, and a summary to stderr.

Each line is one object, in stream order:

  {"seq":1,"subject":"crosstalk.events.policy","event":{"specversion":"1.0",...}}

seq and subject are where JetStream stored the event, and event is the stored
CloudEvent verbatim, byte for byte (raw JSON, not re-encoded), so the bytes
after "event": up to the line's last } are the stored body and its sha256 is
the next event's prevhash. A stored body that is not a crosstalk event is
written as "raw":"<base64>" instead. 'crosstalk replay --from-jsonl FILE'
rebuilds the views from it, and its history sha256 equals 'crosstalk audit
checksum --until-seq N' of the stream.

A partitioned log (serve --partitions N) is exported stream after stream,
CROSSTALK_P0 … CROSSTALK_P{N-1}, then CROSSTALK_POLICY, each from seq 1 to
its last, after a first line naming the streams and the last sequence of
each:

  {"streams":[{"name":"CROSSTALK_P0","last_seq":12},...]}
  {"stream":"CROSSTALK_P0","seq":1,"subject":"crosstalk.events.conv...","event":{...}}

Every line then names its stream; replay's history sha256 of it equals
'crosstalk audit checksum' of the log. --until-seq is refused there (a
sequence is one stream's). The export of one stream has neither.

With --data DIR (the default, ./crosstalk-data) it reads a stopped node's
JetStream through an embedded nats-server of its own; 'crosstalk serve' must
not be running on DIR. With --nats-url it reads a running NATS server.

With --out FILE the export is written beside FILE and renamed to FILE when
complete, so FILE is never a partial export.

Exit status: 0 when every event up to --until-seq was written; non-zero when
the history could not be read or --until-seq is past the end of the stream.`
