// Package identity says who sent a request, as the NATS server
// authenticated it, and what that principal may do. It is the service's
// second line of defence: NATS permissions (see package natsconf) are the
// first.
//
// A request that crosses a service import from an app's account carries
// the header Nats-Request-Info, which nats-server writes itself, replacing
// any value the client sent; its "acc" and "user" name the caller's NATS
// account and user. A request without it did not cross an import: it came
// from inside the service's own account. The rules here are pure, so the
// privacy rule of the seed story can be tested without a server.
package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/crosstalk-dev/crosstalk/events"
)

// RequestInfoHeader is the header nats-server sets on a request that crosses
// a service import (server.ClientInfoHdr).
const RequestInfoHeader = "Nats-Request-Info"

// Kind is what a principal is.
type Kind string

// The kinds of principal (docs/security.md has the matrix of what each may
// do).
const (
	// KindApp is an app's backend: any user of an app's NATS account whose
	// name is not one of that app's crosstalk accounts.
	KindApp Kind = "app"
	// KindUser is an end user: a user of an app's NATS account named as its
	// crosstalk account, "<app>:<handle>".
	KindUser Kind = "user"
	// KindAdmin is a user of the admin account: publishes policies.
	KindAdmin Kind = "admin"
	// KindService is a request from inside the service's own account,
	// which crossed no import (the service and the auditor live there).
	KindService Kind = "service"
	// KindSelfDeclared is every request in development mode, where no
	// identity is checked and a request acts as whoever its body says.
	KindSelfDeclared Kind = "self-declared"
)

// Principal is an authenticated caller.
type Principal struct {
	Kind Kind
	// Account is the caller's NATS account: the app's name for KindApp and
	// KindUser, AdminAccount for KindAdmin.
	Account string
	// User is the caller's NATS user name.
	User string
	// Connection names the caller's connection ("<server>/<client id>",
	// from the header) when nats-server says it; "" otherwise. It is for
	// counting, not for deciding: two connections of one user are one
	// principal.
	Connection string
}

// SelfDeclared is the principal of every request in development mode.
var SelfDeclared = Principal{Kind: KindSelfDeclared}

// ErrNoIdentity reports a Nats-Request-Info header that names no account.
var ErrNoIdentity = errors.New("request info names no account")

// requestInfo is the part of nats-server's ClientInfo the service reads.
// "name" (the client's own connection name) is deliberately absent: the
// client chooses it.
type requestInfo struct {
	Account string `json:"acc"`
	User    string `json:"user"`
	Server  string `json:"server"`
	ID      uint64 `json:"id"`
}

// FromRequestInfo returns the principal of a request whose
// Nats-Request-Info header is header ("" when it has none). adminAccount is
// the NATS account whose users are admins (AdminAccount by default).
func FromRequestInfo(header, adminAccount string) (Principal, error) {
	if header == "" {
		return Principal{Kind: KindService}, nil
	}
	var ri requestInfo
	if err := json.Unmarshal([]byte(header), &ri); err != nil {
		return Principal{}, fmt.Errorf("%s header: %w", RequestInfoHeader, err)
	}
	if ri.Account == "" {
		return Principal{}, ErrNoIdentity
	}
	p := Principal{Account: ri.Account, User: ri.User}
	if ri.ID != 0 {
		p.Connection = ri.Server + "/" + strconv.FormatUint(ri.ID, 10)
	}
	switch {
	case ri.Account == adminAccount:
		p.Kind = KindAdmin
	case isOwnAccount(ri.User, ri.Account):
		p.Kind = KindUser
	default:
		p.Kind = KindApp
	}
	return p, nil
}

// isOwnAccount reports whether user is a crosstalk account of app.
func isOwnAccount(user, app string) bool {
	a, err := events.ParseAccount(user)
	return err == nil && string(a.App()) == app
}

// App is the app a KindApp or KindUser principal acts for.
func (p Principal) App() events.App { return events.App(p.Account) }

// Self is the crosstalk account of a KindUser principal.
func (p Principal) Self() events.Account { return events.Account(p.User) }

// String names the principal as events record it: "<account>/<user>",
// "service" or "" for a self-declared one, which proves nothing.
func (p Principal) String() string {
	switch p.Kind {
	case KindSelfDeclared:
		return ""
	case KindService:
		return "service"
	}
	return p.Account + "/" + p.User
}

// Enforced reports whether requests are checked against the principal:
// false in development mode.
func (p Principal) Enforced() bool { return p.Kind != KindSelfDeclared }
