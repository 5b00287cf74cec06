package main

import (
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/demo"
)

func newDemoCommand(stdout, stderr io.Writer) *cobra.Command {
	var dir, listen, watch string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Play the December 2023 Instagram-Messenger disconnect end to end",
		Long:  demoLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelInfo
			}
			return demo.Run(cmd.Context(), demo.Options{Dir: dir, Listen: listen, Watch: watch,
				Logger: newLogger(stderr, level), Out: stdout})
		},
	}
	cmd.Flags().StringVar(&dir, "data", "", "keep the demo's data in this directory (default: a temporary directory, removed afterwards)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "client address of the embedded nats-server (port 0 picks a free one)")
	cmd.Flags().BoolVar(&verbose, "verbose", false, "show the service's logs")
	cmd.Flags().StringVar(&watch, "watch", "", "print the nats CLI command that watches this end user's live feed (e.g. messenger:bob), and wait until it subscribes before playing")
	return cmd
}

// demoLong is the --help of Demo.
const demoLong = `demo starts crosstalk on an embedded nats-server and a Pebble store (in a
temporary directory unless --data is given) under an identity configuration
it generates as 'crosstalk auth init' would (a temporary one, with random
passwords), and plays the seed story through NATS requests, exactly as
producers would send them: each app (instagram, messenger) acts for its
accounts on a NATS connection of its own, and the admin publishes the
policies on another. A simulated clock runs from 2020 to December 2023:

  policy v1 (2020) lets Instagram and Messenger talk; an Instagram and a
  Messenger account chat, read each other and see each other's activity;
  policy v2 (effective 2023-12-14) is published two days early and takes effect
  when the clock passes it; the cross-app conversation is closed by policy; new
  cross-app conversations and calls are refused; the old history is still
  listed; the Messenger account loses the Instagram account's activity status
  and read receipts; same-app chat carries on; and the JetStream history from
  before the policy is shown byte-identical after it: its audit checksum
  (as crosstalk audit checksum prints it) is the same before and after.

Then five refusals show that the identities hold against a client that
lies: the Instagram app publishing on a Messenger subject is refused by the
NATS server itself; the Messenger end user messenger:bob, on its own
connection, claiming the viewer instagram:eve still does not see
instagram:alice's activity status; a forged Nats-Request-Info header
claiming instagram:alice is ignored, the request answered as messenger:bob;
the same forgery hidden behind a bare LF over a bare socket is refused as a
malformed header (400); and NATS refuses messenger:bob a subscription to _INBOX.> or to his app's
reply inbox: each principal receives replies only under its own inbox
prefix. docs/security.md explains the model.

Live feeds (docs/feeds.md): with --watch messenger:bob the demo first prints
the stock nats CLI's command that subscribes to that end user's feed,
crosstalk.feed.messenger.bob, with its credentials, and waits until it
subscribes; the feed then shows each notification of the story as bob's
Messenger client would get it (give --listen a fixed port to type the
command once, e.g. --listen 127.0.0.1:4222). The end users are
instagram:alice, messenger:bob and thirdparty-birdychat:zed.

The data kept with --data opens again under any configuration 'crosstalk
auth init' writes (serve --data DIR --nats-config ...), and offline with the
audit and replay commands. Under a configuration, serve makes the auditor's
copies of the streams (mirrors in its account AUDIT) at start, and the
auditor reads those: crosstalk audit verify --nats-url URL --user auditor
--password ... (docs/security.md, "The auditor's account").

Every expectation is checked; the demo exits non-zero if one fails.`
