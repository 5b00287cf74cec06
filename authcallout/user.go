package authcallout

import (
	"github.com/nats-io/jwt/v2"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// Permissions are what an end user may do on NATS, the same as a static
// end user of the generated configuration: publish its app's commands and
// the queries; subscribe to its own reply inboxes and its own live feed.
type Permissions struct {
	Publish   []string
	Subscribe []string
}

// UserPermissions returns account's permissions: natsconf's end user's
// (natsconf.EndUserSubjects). Its inbox prefix is natsconf.InboxPrefix's,
// so a device sets it as its client's inbox prefix
// (nats.CustomInboxPrefix, `nats --inbox-prefix`).
func UserPermissions(account events.Account) Permissions {
	pub, sub := natsconf.EndUserSubjects(string(account))
	return Permissions{Publish: pub, Subscribe: sub}
}

// InboxPrefix is the reply-inbox prefix of the end user account.
func InboxPrefix(account events.Account) string {
	return natsconf.InboxPrefix(string(identity.KindUser), string(account))
}

// userClaims is the NATS user the callout issues for a verified token:
// placed in the app's account (the audience, in a configuration file's
// auth_callout), named as the crosstalk account so that the server writes
// that name as the "user" of Nats-Request-Info (the service's identity
// check reads it there), with the end user's permissions, and expiring
// with the token.
//
// It carries no subscription or payload limits: in configuration-file mode
// nats-server (2.15.2) drops a callout user's JWT before it applies limits,
// so a device is bound by its app account's limits block alone
// (TestAccountLimitsBindDevices).
func userClaims(userNkey string, t Token) *jwt.UserClaims {
	uc := jwt.NewUserClaims(userNkey)
	uc.Audience = string(t.Account.App())
	uc.Name = string(t.Account)
	uc.Expires = t.Expires.Unix()
	p := UserPermissions(t.Account)
	uc.Pub.Allow.Add(p.Publish...)
	uc.Sub.Allow.Add(p.Subscribe...)
	// A device is a client: not a leaf node, a route or an MQTT session,
	// whose permissions would mean something else.
	uc.AllowedConnectionTypes.Add(jwt.ConnectionTypeStandard, jwt.ConnectionTypeWebsocket)
	return uc
}
