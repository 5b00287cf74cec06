package main

import (
	"io"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/authsetup"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

func newAuthCommand(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Set up who may do what: NATS accounts, users and permissions",
	}
	cmd.AddCommand(newAuthInitCommand(stdout), newAuthCalloutCommand(stderr), newAuthTokenCommand(stdout))
	return cmd
}

func newAuthInitCommand(stdout io.Writer) *cobra.Command {
	var f authsetup.InitFlags
	cmd := &cobra.Command{
		Use:   "init --dir DIR",
		Short: "Write a nats-server configuration with an account per app, an admin and an auditor",
		Long:  authInitLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return authsetup.Init(f, stdout)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Dir, "dir", "", "directory to write nats.conf and credentials.json into (created 0700 if missing)")
	fl.StringSliceVar(&f.Apps, "apps", seed.Apps, "apps to make an account for, comma-separated")
	fl.StringVar(&f.Listen, "listen", "127.0.0.1:4222", "client address the configuration listens on (host:port)")
	fl.StringVar(&f.TLSCert, "tls-cert", "", "the server's TLS certificate (PEM), written into a tls block")
	fl.StringVar(&f.TLSKey, "tls-key", "", "the key of --tls-cert (PEM)")
	fl.StringVar(&f.TLSCA, "tls-ca", "", "the CA that signed --tls-cert, for the nats contexts")
	fl.BoolVar(&f.Callout, "callout", false, "end users come through 'crosstalk auth callout' with app-signed tokens, not from the file")
	addLimitFlags(fl, &f.Limits)
	_ = cmd.MarkFlagRequired("dir")
	cmd.MarkFlagsRequiredTogether("tls-cert", "tls-key")
	return cmd
}

// addLimitFlags adds the flags that override natsconf.DefaultLimits: the
// app accounts' three, and the service account's connections and
// subscriptions (docs/security.md, Limits).
func addLimitFlags(fl *pflag.FlagSet, l *natsconf.Limits) {
	d := natsconf.DefaultLimits
	fl.IntVar(&l.App.MaxConnections, "app-max-connections", d.App.MaxConnections,
		"connections each app's account holds at once, its backend's and its end users' together (-1: none)")
	fl.IntVar(&l.App.MaxSubscriptions, "app-max-subscriptions", d.App.MaxSubscriptions,
		"subscriptions one connection of an app's account may hold (-1: none)")
	fl.IntVar(&l.App.MaxPayload, "app-max-payload", d.App.MaxPayload,
		"largest message, in bytes, a connection of an app's account may publish")
	fl.IntVar(&l.Service.MaxConnections, "service-max-connections", d.Service.MaxConnections,
		"connections the service's account holds at once: every node, the auditor and the tools (-1: none)")
	fl.IntVar(&l.Service.MaxSubscriptions, "service-max-subscriptions", d.Service.MaxSubscriptions,
		"subscriptions one connection of the service's account may hold (-1: none)")
}

// authInitLong is the --help of AuthInit.
const authInitLong = `init writes, with random secrets, files of mode 0600:

  DIR/nats.conf          a standard nats-server configuration: the CROSSTALK
                         account (the service), the ADMIN account, the
                         AUDIT account (the auditor, reading mirrors of the
                         streams that serve makes), and one account per
                         app with its backend
                         and one sample end user, with the exports, imports
                         and permissions that make NATS refuse what it can
  DIR/credentials.json   one entry per principal: principal, kind, account,
                         user, password, inbox_prefix

and prints the 'nats context save' lines that let the stock nats CLI act as
each principal. It refuses to overwrite an existing configuration: to rotate
the secrets, write a new directory and reload (docs/security.md).

Each principal may subscribe for replies only under its own inbox prefix
(inbox_prefix, the contexts' --inbox-prefix; crosstalk's commands take
--inbox-prefix): a client on nats.go's default _INBOX gets no reply.

Each account is bounded: the connections it holds, the subscriptions of one
of its connections and the largest message one may publish. The --app-max-*
and --service-max-* flags change the defaults; docs/security.md (Limits)
says how to size them.

With --tls-cert and --tls-key the configuration gets a tls block, and the
contexts check the server's certificate against --tls-ca.

With --callout no end user is in the file: end users connect with a device
token their app signed, checked by 'crosstalk auth callout'. The file gets an
authorization { auth_callout } block (every user it lists bypasses the
callout), an AUTH account with the callout's user, and DIR also holds, mode
0600: callout-issuer.nk (the seed the callout signs with), app-keys.json
(each app's registered public key) and app-<app>.nk (each app's signing
seed, for its backend).

Serve with it: crosstalk serve --nats-config DIR/nats.conf`
