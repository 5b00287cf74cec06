package main

import (
	"io"
	"log/slog"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/serving"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/jsonout"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/bench"
)

func newBenchCommand(stdout, stderr io.Writer) *cobra.Command {
	var opts bench.Options
	var asJSON, quick bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure commands, the durable intake, projection, live feeds, queries and policy closing per second on this machine",
		Long:  benchLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			serving.TuneGC()
			if quick {
				opts = quickOptions(cmd, opts)
			}
			// The bench overloads the service on purpose: its warnings
			// (a read model behind the log) are expected, errors are not.
			opts.Logger = newLogger(stderr, slog.LevelError)
			res, err := bench.Run(cmd.Context(), opts, bench.NewProgress(stderr))
			if err != nil {
				return err
			}
			if asJSON {
				return jsonout.Write(stdout, res)
			}
			return res.WriteTable(stdout)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print one JSON object with every figure, ratio and target instead of the table")
	f.DurationVar(&opts.Duration, "duration", bench.DefaultDuration, "how long each timed phase runs")
	f.IntVar(&opts.Conversations, "conversations", bench.DefaultConversations, "conversations cmd_send spreads over (and subjects of the raw figures)")
	f.IntVar(&opts.Clients, "clients", bench.DefaultClients, "concurrent clients, each with its own NATS connection")
	f.IntVar(&opts.InFlight, "in-flight", bench.DefaultInFlight, "requests each client keeps in flight in cmd_send_pipelined")
	f.StringVar(&opts.NatsURL, "nats-url", "", "run on this NATS server's JetStream instead of an embedded one (CROSSTALK must not exist there)")
	addSecretFlags(f, &opts.Credentials) // no --context: the bench runs its own broker unless --nats-url
	f.IntVar(&opts.Backlog, "backlog", bench.DefaultBacklog, "events projector_catchup replays")
	f.IntVar(&opts.IntakeBacklog, "intake-backlog", bench.DefaultIntakeBacklog, "message.send commands published to the durable intake before the intake figure starts its consumer")
	f.IntVar(&opts.InboxStore, "inbox-store", bench.DefaultInboxStore, "conversations in the read model query_inbox reads (it also measures at 10000)")
	f.IntVar(&opts.Close, "close", bench.DefaultClose, "cross-app conversations policy_close closes")
	f.IntVar(&opts.LongConversation, "long-conversation", bench.DefaultLongConversation, "messages of the long conversation cold_load_long loads (issue 25 aims at 1000000)")
	f.BoolVar(&quick, "quick", false, "shrink every phase (1s, 2000 events, intake commands and conversations) to try the command or test it")
	f.StringVar(&opts.CPUProfile, "cpuprofile", "", "write a CPU profile of each phase to this file, with the phase's name before the extension")
	_ = f.MarkHidden("cpuprofile")
	return cmd
}

// quickOptions are bench.Quick with every flag given on the command line
// kept.
func quickOptions(cmd *cobra.Command, given bench.Options) bench.Options {
	q := bench.Quick()
	q.NatsURL, q.Credentials, q.CPUProfile = given.NatsURL, given.Credentials, given.CPUProfile
	keep := map[string]func(){
		"duration":          func() { q.Duration = given.Duration },
		"conversations":     func() { q.Conversations = given.Conversations },
		"clients":           func() { q.Clients = given.Clients },
		"in-flight":         func() { q.InFlight = given.InFlight },
		"backlog":           func() { q.Backlog = given.Backlog },
		"intake-backlog":    func() { q.IntakeBacklog = given.IntakeBacklog },
		"inbox-store":       func() { q.InboxStore, q.InboxSmall = given.InboxStore, 0 }, // small: the default 10000
		"close":             func() { q.Close = given.Close },
		"long-conversation": func() { q.LongConversation = given.LongConversation },
	}
	for name, set := range keep {
		if cmd.Flags().Changed(name) {
			set()
		}
	}
	return q
}

// benchLong is the --help of Bench.
const benchLong = `bench starts its own embedded nats-server and Pebble stores in a temporary
directory (or uses --nats-url) and measures, in one run:

  raw_js_async_pub     JetStream PublishAsync with Nats-Msg-Id, the yardstick
  raw_ordered_consume  an ordered consumer reading those messages back
  raw_request_reply    core NATS request-reply to an echo responder
  raw_request_reply_inbox
                       the same with query_inbox's shape: one request in
                       flight per client, replies the size of an inbox page
  raw_occ_endpoint     the floor of a command: a bare micro endpoint that
                       takes message.send bodies undecoded, publishes 256 B
                       to the conversation with Nats-Msg-Id and the expected
                       last subject sequence, and replies once it is acked
  query_inbox          crosstalk.query.inbox on a small and a large read model
  projector_catchup    a fresh Pebble store catching up with --backlog events
  projector_catchup_feed
                       the same into a second fresh store that publishes live
                       feeds (crosstalk.feed.<app>.<handle>), one subscriber
                       of crosstalk.feed.> counting them; from here on the
                       service's views publish feeds, as serve's do
  cmd_send             message.send through the service, each client waiting
                       for every reply, then with requests in flight
  feed                 notifications per second delivered to one subscriber
                       of crosstalk.feed.> while cmd_send's workload (requests
                       in flight) runs again
  policy_close         closing --close cross-app conversations when policy
                       version 2 takes effect, on a simulated clock
  rebuild              a full replay of the stream into a fresh store
  intake               the durable intake: --intake-backlog message.send
                       commands published to crosstalk.intake.<app>.message.send
                       while no intake consumer runs, then the time and CPU
                       from starting the consumer until every one is decided
                       (its outcome published, nothing pending)
  raw_occ_endpoint_late
                       raw_occ_endpoint again, just before the next figure:
                       the floor in the state earlier phases left
  cmd_send_commands_node
                       cmd_send with requests in flight, answered by a
                       commands-only node (serve --roles commands: no read
                       model, projector or feeds) on conversations of its
                       own; the read model runs elsewhere, so none runs in
                       this process while it is measured. Target: its
                       cpu/op at most 2 × raw_occ_endpoint's (issue 23)
  cmd_send_sealed      cmd_send_commands_node's workload on a node that seals
                       every message's text (docs/erasure.md): its cpu/op
                       against cmd_send_commands_node's is sealing's cost
  cold_load_long       the first message.send after a cold start (an empty
  cold_load_short      cache) on a conversation of --long-conversation
                       messages, and on one of 100; each was loaded once
                       before (cold_load_first: history written without
                       snapshots, read once), so the cold start reads its
                       snapshot and the events after it. Also the live heap
  cold_load_long_heap  the long conversation holds once cached, and
  cold_old_message_edit
                       an edit of its first message, long out of memory.
                       Targets: <= 50 ms, <= 64 KiB, long <= 2 × short
  cmd_send_auth        cmd_send with requests in flight, and query_inbox on
  query_inbox_auth     the large read model, through per-app accounts: the
                       clients connect as an app, each request crosses the
                       service import, and the service enforces identities
  cmd_send_durable     cmd_send with requests in flight on a second embedded
                       broker as serve --sync-always runs it (fsync before
                       every ack, views synced every batch)
  cmd_send_partitions  cmd_send with requests in flight on another embedded
                       broker whose log has 4 partitions (serve --partitions 4),
                       the views following every stream

The embedded server runs under an identity configuration the bench generates
(as 'crosstalk auth init' would); every figure but the *_auth ones connects as
the service principal, inside the account that holds the streams.

It prints a table with p50 and p99 latencies and the CPU time per operation
of every figure, the ratios of the figures to their floors measured in the
same run (cmd_send to raw_occ_endpoint and raw_js_async_pub, projector_catchup
to raw_ordered_consume, query_inbox to raw_request_reply and
raw_request_reply_inbox, cmd_send_durable to cmd_send, cmd_send_partitions to
cmd_send in cpu/op, the *_auth figures to
the same workloads without identities, intake to raw_js_async_pub and, in
cpu/op, to cmd_send, cmd_send_commands_node to raw_occ_endpoint and
cmd_send_pipelined in cpu/op, projector_catchup_feed to projector_catchup in cpu/op:
the target "feed projector cpu/op" wants feeds to cost the projector at most
1.2 × its CPU per event without them), and each target with what it wants, what the run got,
and PASS or MISS. Everything runs in this process, so the figures share the
machine's CPUs with the broker, the service and the clients; other load on the
machine lowers them (the load average is printed).

With --nats-url the bench runs on that server's JetStream; the streams
CROSSTALK and CROSSTALK_INTAKE_<app> (of the bench's app) must not exist there, because the bench fills
them and cannot purge CROSSTALK. The *_auth figures, cmd_send_durable and
cmd_send_partitions are then skipped (the table says so): they need an embedded server the bench
configures.`
