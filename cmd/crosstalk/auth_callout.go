package main

import (
	"io"
	"time"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/authsetup"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/authcallout"
	"github.com/crosstalk-dev/crosstalk/events"
)

func newAuthCalloutCommand(stderr io.Writer) *cobra.Command {
	var f authsetup.CalloutFlags
	cmd := &cobra.Command{
		Use:   "callout --dir DIR | --keys FILE --issuer-seed FILE --user U --password P",
		Short: "Authenticate end users: check each device's app-signed token and issue its NATS user",
		Long:  authCalloutLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.Run(cmd.Context(), newLogger(stderr, f.Level()))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Dir, "dir", "", "a directory 'crosstalk auth init --callout' wrote: the defaults of --keys, --issuer-seed and the callout's user")
	fl.StringVar(&f.Keys, "keys", "", "the apps' registered public keys (JSON: app to a list of public account nkeys)")
	fl.StringVar(&f.IssuerSeed, "issuer-seed", "", "the seed of the auth_callout issuer, which signs the answers")
	fl.DurationVar(&f.Opts.MaxTokenLifetime, "max-token-lifetime", authcallout.DefaultMaxTokenLifetime, "refuse tokens whose exp is further ahead")
	fl.BoolVar(&f.Debug, "debug", false, "log every user issued, not only the refusals")
	addServiceFlags(fl, &f.NatsURL, &f.Creds)
	return cmd
}

// tokenFlags are the flags of 'crosstalk auth token'.
type tokenFlags struct {
	app, handle, seed string
	ttl               time.Duration
}

func newAuthTokenCommand(stdout io.Writer) *cobra.Command {
	var f tokenFlags
	cmd := &cobra.Command{
		Use:   "token --app APP --handle HANDLE --seed FILE [--ttl 5m]",
		Short: "Mint a device token for <app>:<handle>, as an app's backend would",
		Long:  authTokenLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kp, err := authcallout.ReadSeed(f.seed)
			if err != nil {
				return err
			}
			return authsetup.PrintToken(stdout, kp, events.Account(f.app+":"+f.handle), f.ttl)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.app, "app", "", "the app the end user belongs to")
	fl.StringVar(&f.handle, "handle", "", "the end user's handle in that app")
	fl.StringVar(&f.seed, "seed", "", "the app's signing seed (DIR/app-<app>.nk of 'auth init --callout')")
	fl.DurationVar(&f.ttl, "ttl", 5*time.Minute, "how long the token is valid: its connection ends then")
	for _, name := range []string{"app", "handle", "seed"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

// authCalloutLong is the --help of 'auth callout'.
const authCalloutLong = `callout authenticates crosstalk's end users through NATS auth callout.

Each app registers a public key (--keys). After its own login, an app's
backend signs a short-lived device token for "<app>:<handle>" with its key
('crosstalk auth token' makes one by hand); the device connects to NATS with
it as its token (nats.Token, 'nats --token'). The server asks this command,
which refuses an expired, forged, unregistered or other app's token, and
otherwise issues a NATS user in the app's account named "<app>:<handle>",
allowed exactly that end user's commands, queries, live feed and reply
inbox prefix (_INBOX.user.<app>.<handle>), expiring with the token.

Run it next to the server of 'crosstalk auth init --callout --dir DIR':

  crosstalk auth callout --dir DIR --nats-url nats://127.0.0.1:4222

Several may run at once: they share the requests (queue group
` + authcallout.QueueGroup + `). docs/security.md has the token format.`

// authTokenLong is the --help of 'auth token'.
const authTokenLong = `token prints a device token for <app>:<handle>, signed with the app's key,
valid for --ttl: a JWT (nats-io/jwt generic claims) with iss the app's public
key, sub "<app>:<handle>", aud "crosstalk", exp. Real apps mint it in their
backends after their own login (docs/security.md); this command is for
trying it:

  nats --token "$(crosstalk auth token --app instagram --handle alice --seed DIR/app-instagram.nk)" \
    --inbox-prefix _INBOX.user.instagram.alice sub crosstalk.feed.instagram.alice`
