package main

import (
	"os"

	"github.com/nats-io/nats.go"
	"github.com/spf13/pflag"

	"github.com/crosstalk-dev/crosstalk/node"
)

// addCredentialFlags adds the flags that say how a command authenticates to
// NATS and checks its TLS certificate. Every command that connects to NATS
// takes them, so that one set of flags works against any server
// docs/security.md describes.
func addCredentialFlags(f *pflag.FlagSet, c *node.Credentials) {
	f.StringVar(&c.Context, "context", os.Getenv(node.EnvContext), "connect with this nats CLI context (its server, credentials and TLS; "+
		"$NATS_CONTEXT sets the default; the flags here win over it): secrets stay out of the command line")
	addSecretFlags(f, c)
}

// addSecretFlags adds the credential flags but --context.
func addSecretFlags(f *pflag.FlagSet, c *node.Credentials) {
	f.StringVar(&c.CredsFile, "creds", "", "authenticate to NATS with this .creds file (a user JWT and its nkey seed)")
	f.StringVar(&c.User, "user", "", "authenticate to NATS as this user (see 'crosstalk auth init')")
	f.StringVar(&c.Password, "password", "", "the password of --user")
	f.StringVar(&c.TLSCA, "tls-ca", "", "check the NATS server's TLS certificate against this CA (PEM file)")
	f.StringVar(&c.InboxPrefix, "inbox-prefix", "", "subscribe for replies under this prefix instead of _INBOX "+
		"(under 'crosstalk auth init' each principal may only use its own: credentials.json's inbox_prefix)")
}

// addServiceFlags adds --nats-url, where a running crosstalk serves, and
// the credential flags: what every client command of a running node needs.
func addServiceFlags(f *pflag.FlagSet, url *string, c *node.Credentials) {
	f.StringVar(url, "nats-url", "", "NATS server where crosstalk serves (default: $NATS_URL, else the --context's server, else "+nats.DefaultURL+")")
	addCredentialFlags(f, c)
}

// onlineUnlessData points a history command at a running server when
// --data was not given but $NATS_URL or a nats context names one: the
// nats CLI's conventions say where NATS is, and a command given them
// should not look for ./crosstalk-data instead.
func onlineUnlessData(flags *pflag.FlagSet, url *string, c node.Credentials) error {
	if flags.Changed("data") || flags.Changed("from-jsonl") || *url != "" {
		return nil
	}
	u, err := node.ResolveURL("", c)
	*url = u
	return err
}
