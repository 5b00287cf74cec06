package main

import (
	"github.com/spf13/pflag"

	"github.com/crosstalk-dev/crosstalk/node"
)

// addCredentialFlags adds the flags that say how a command authenticates to
// NATS and checks its TLS certificate. Every command that connects to NATS
// takes them, so that one set of flags works against any server
// docs/security.md describes.
func addCredentialFlags(f *pflag.FlagSet, c *node.Credentials) {
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
	f.StringVar(url, "nats-url", defaultNatsURL(), "NATS server where crosstalk serves ($NATS_URL sets the default)")
	addCredentialFlags(f, c)
}
