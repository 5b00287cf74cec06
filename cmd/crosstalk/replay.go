package main

import (
	"io"
	"log/slog"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/history"
	"github.com/spf13/cobra"
)

func newReplayCommand(stdout, stderr io.Writer) *cobra.Command {
	f := history.ReplayOptions{Target: history.Target{Logger: newLogger(stderr, slog.LevelWarn)}}
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Rebuild the views from the history into a fresh Pebble store and print their checksum",
		Long:  replayLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return history.Replay(cmd.Context(), f, stdout, stderr)
		},
	}
	addTargetFlags(cmd, &f.Target)
	fl := cmd.Flags()
	fl.StringVar(&f.FromJSONL, "from-jsonl", "", "replay an export written by 'crosstalk audit export' instead")
	fl.Uint64Var(&f.UntilSeq, "until-seq", 0, "last stream sequence to replay (0: the end of the history)")
	fl.StringVar(&f.UntilTime, "until-time", "", "replay the history as of this RFC 3339 time or date (the end of that day, UTC), by the events' own time")
	fl.StringVar(&f.Out, "out", "", "build the views in this directory, which must be new or empty, and keep them "+
		"(default: a temporary directory, removed afterwards)")
	cmd.MarkFlagsMutuallyExclusive("data", "from-jsonl")
	cmd.MarkFlagsMutuallyExclusive("nats-url", "from-jsonl")
	return cmd
}

// replayLong is the --help of Replay.
const replayLong = `replay reads crosstalk's history from its first event, in stream order, and
folds it into a fresh Pebble store exactly as the live projector does, then
prints how many events it applied, the last sequence, how long it took, the
events per second, and the checksum of the views (sha256 over every key and
value of the store).

The views are a projection of the log: a replay of the same history always
gives the same checksum, whatever batches it used, and equals the checksum of
the live views at the same sequence. Compare it with a node's views to prove
them, or rebuild a node's views with --out and swap them in.

The history is read from one of:

  --data DIR         a stopped node's data directory (the default,
                     ./crosstalk-data), through an embedded nats-server of
                     replay's own; 'crosstalk serve' must not be running on DIR
  --nats-url URL     the stream of a running NATS server, up to its last
                     sequence when the replay starts
  --from-jsonl FILE  an export written by 'crosstalk audit export'

A 'nats backup stream' directory is a snapshot of JetStream's files, not a
list of messages: restore it into a NATS server ('nats backup restore stream
DIR' against a server started with 'nats-server -js -sd DIR2/jetstream'), then
replay with --nats-url, or stop that server and replay with --data DIR2.

A partitioned log (serve --partitions N) is replayed stream after stream,
CROSSTALK_P0 … CROSSTALK_P{N-1}, then CROSSTALK_POLICY, each from its first
sequence in its own order (so every conversation's and account's events in
theirs), into views that follow every stream; the result names each stream's
last sequence and history sum instead of one.

--until-seq N stops after stream sequence N (one stream only: a partitioned
log refuses it; bound it by --until-time). --until-time T replays the
history as of T by the events' own clock: exactly the events whose CloudEvents
time is not after T (the broker's timestamps play no part), as 'audit
visibility --at' builds its views. T is an RFC 3339 time
(2023-12-14T00:00:00Z) or a date (2023-12-13), meaning the end of that day in
UTC.

The views are built in --out DIR (created if missing; it must be empty), or
in a temporary directory that is removed afterwards. Progress goes to stderr:
a bar with events/s and ETA on a terminal, otherwise a line about once a
second. The result goes to stdout (--json: as JSON).

Exit status: 0 when the views were rebuilt; non-zero when the history could
not be read, a line of --from-jsonl is not an export line, --until-seq is past
the end of the history, or --out is not empty.`
