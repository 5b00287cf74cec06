package natsconf

import (
	"errors"
	"fmt"
	"strings"
)

// AccountLimits are what a nats-server configuration file can bound for
// one account (its `limits {}` block). A configuration file cannot bound a
// single user: nats-server reads per-user limits only from user JWTs, so
// every user of an account, an app's backend and its end users alike, gets
// the account's per-connection limits, and all of them share its
// connections. docs/security.md says how to size them.
type AccountLimits struct {
	// MaxConnections is the most client connections the account holds at
	// once, all its users together; -1 is none. Zero takes the default.
	MaxConnections int
	// MaxSubscriptions is the most subscriptions one connection of the
	// account may hold; -1 is none. NATS refuses the one beyond it with
	// "maximum subscriptions exceeded". Zero takes the default.
	MaxSubscriptions int
	// MaxPayload is the largest message, in bytes, a connection of the
	// account may publish; NATS closes a connection that publishes a larger
	// one ("maximum payload violation"). Zero takes the default.
	MaxPayload int
}

// Limits are the limits written into each kind of account.
type Limits struct {
	// App bounds each app's account: its backend and its end users.
	App AccountLimits
	// Admin bounds the ADMIN account.
	Admin AccountLimits
	// Service bounds the CROSSTALK account: every node of the deployment
	// and the operator's tools.
	Service AccountLimits
	// Audit bounds the AUDIT account: the auditor's audits.
	Audit AccountLimits
}

// DefaultLimits are the limits of a generated configuration.
//
// An end user needs two subscriptions (its replies, its feed) and an app's
// backend a few more (its outcomes, the feeds of its accounts); the
// largest command, a message.send of 4096 bytes of text that JSON escapes
// up to sixfold, fits in 64 KiB. A node of the service holds about 35
// subscriptions (its endpoints, its consumers, its replies), a policy
// document is at most 192 KiB, and an inbox page or a batch of events
// fits the server's 1 MiB.
var DefaultLimits = Limits{
	App:     AccountLimits{MaxConnections: 512, MaxSubscriptions: 128, MaxPayload: 64 << 10},
	Admin:   AccountLimits{MaxConnections: 16, MaxSubscriptions: 64, MaxPayload: 1 << 20},
	Service: AccountLimits{MaxConnections: 256, MaxSubscriptions: 4096, MaxPayload: 1 << 20},
	Audit:   AccountLimits{MaxConnections: 16, MaxSubscriptions: 256, MaxPayload: 1 << 20},
}

// maxPayloadLimit is nats-server's ceiling on max_payload.
const maxPayloadLimit = 64 << 20

// ErrLimits reports a limit nats-server cannot take.
var ErrLimits = errors.New("invalid limit")

// withDefaults returns l with its zero fields taken from DefaultLimits.
func (l Limits) withDefaults() Limits {
	l.App = l.App.withDefaults(DefaultLimits.App)
	l.Admin = l.Admin.withDefaults(DefaultLimits.Admin)
	l.Service = l.Service.withDefaults(DefaultLimits.Service)
	l.Audit = l.Audit.withDefaults(DefaultLimits.Audit)
	return l
}

func (a AccountLimits) withDefaults(d AccountLimits) AccountLimits {
	if a.MaxConnections == 0 {
		a.MaxConnections = d.MaxConnections
	}
	if a.MaxSubscriptions == 0 {
		a.MaxSubscriptions = d.MaxSubscriptions
	}
	if a.MaxPayload == 0 {
		a.MaxPayload = d.MaxPayload
	}
	return a
}

// Validate returns an error wrapping ErrLimits when a limit of l is one
// nats-server would refuse or misread.
func (l Limits) Validate() error {
	return errors.Join(l.App.validate("app"), l.Admin.validate("admin"), l.Service.validate("service"),
		l.Audit.validate("audit"))
}

func (a AccountLimits) validate(kind string) error {
	switch {
	case a.MaxConnections < -1 || a.MaxSubscriptions < -1:
		return fmt.Errorf("%w: %s accounts: connections and subscriptions are -1 (none), 0 (the default) or more", ErrLimits, kind)
	case a.MaxPayload < 0 || a.MaxPayload > maxPayloadLimit:
		return fmt.Errorf("%w: %s accounts: a payload is at most %d bytes, got %d", ErrLimits, kind, maxPayloadLimit, a.MaxPayload)
	}
	return nil
}

// serverMaxPayload is the server-wide max_payload: the largest of the
// accounts', since nats-server holds each connection to the smaller of its
// account's and the server's.
func (l Limits) serverMaxPayload() int {
	return max(l.App.MaxPayload, l.Admin.MaxPayload, l.Service.MaxPayload, l.Audit.MaxPayload)
}

// writeLimits writes an account's limits block.
func writeLimits(b *strings.Builder, a AccountLimits) {
	fmt.Fprintf(b, "    limits: {max_connections: %d, max_subscriptions: %d, max_payload: %d}\n",
		a.MaxConnections, a.MaxSubscriptions, a.MaxPayload)
}
