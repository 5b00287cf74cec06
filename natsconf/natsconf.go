// Package natsconf writes the NATS side of crosstalk's identity model: a
// standard nats-server configuration with one account per app, an admin
// account and the service's own account, with the exports, imports and
// permissions that make NATS refuse what it can, and the credentials of
// every principal. docs/security.md explains the model; package identity
// holds the rules the service checks on top.
package natsconf

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
)

// ServiceAccount is the NATS account that holds the streams and the micro
// service.
const ServiceAccount = "CROSSTALK"

// The principal names of the fixed principals in credentials.json.
const (
	PrincipalService = "service"
	PrincipalAdmin   = "admin"
	PrincipalAuditor = "auditor"
)

// Credential is one principal's entry in credentials.json.
type Credential struct {
	// Principal names it: an app ("instagram"), an end user
	// ("instagram:alice"), or PrincipalService, PrincipalAdmin,
	// PrincipalAuditor.
	Principal string `json:"principal"`
	// Kind is app, user, admin, auditor or service.
	Kind string `json:"kind"`
	// Account is the NATS account the user belongs to.
	Account  string `json:"account"`
	User     string `json:"user"`
	Password string `json:"password"`
	// InboxPrefix is the principal's reply-inbox prefix (InboxPrefix):
	// NATS lets it subscribe for replies only under InboxPrefix.>, so its
	// connections must be made with it (nats.CustomInboxPrefix, the nats
	// CLI's --inbox-prefix) or their requests get no reply.
	InboxPrefix string `json:"inbox_prefix"`
}

// Config is a generated identity configuration.
type Config struct {
	// Apps are the apps with an account each, in order.
	Apps []string
	// Credentials holds every principal, the service first.
	Credentials []Credential
	// TLS, when set, makes the server require TLS with this certificate.
	TLS TLSFiles
	// Callout, when set, authenticates end users through an auth callout
	// (see WithCallout).
	Callout *Callout
	// Limits bound each account's connections, subscriptions and payload;
	// zero fields take DefaultLimits' values.
	Limits Limits
}

// TLSFiles are the server's certificate and key, PEM files, written into
// the configuration's tls block.
type TLSFiles struct {
	Cert string
	Key  string
}

// ErrNoSuchPrincipal reports a principal a Config does not have.
var ErrNoSuchPrincipal = errors.New("no such principal")

// Generate makes a configuration for apps with random secrets from rnd
// (crypto/rand.Reader when nil). Apps must be valid crosstalk app names and
// distinct. Each app gets one sample end user, "<app>:<handle>", the
// handle from samples or "user".
func Generate(apps []string, samples map[string]string, rnd io.Reader) (Config, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if err := checkApps(apps); err != nil {
		return Config{}, err
	}
	c := Config{Apps: slices.Clone(apps)}
	add := func(principal, kind, account, user string) error {
		pw, err := secret(rnd)
		c.Credentials = append(c.Credentials, Credential{Principal: principal, Kind: kind, Account: account,
			User: user, Password: pw, InboxPrefix: InboxPrefix(kind, principal)})
		return err
	}
	errs := []error{
		add(PrincipalService, string(identity.KindService), ServiceAccount, "crosstalk"),
		add(PrincipalAuditor, "auditor", AuditAccount, "auditor"),
		add(PrincipalAdmin, string(identity.KindAdmin), identity.AdminAccount, "admin"),
	}
	for _, app := range apps {
		handle, ok := samples[app]
		if !ok {
			handle = "user"
		}
		errs = append(errs, add(app, string(identity.KindApp), app, app+"-backend"),
			add(app+":"+handle, string(identity.KindUser), app, app+":"+handle))
	}
	return c, errors.Join(errs...)
}

func checkApps(apps []string) error {
	if len(apps) == 0 {
		return errors.New("no apps: name at least one")
	}
	for i, app := range apps {
		if err := events.App(app).Validate(); err != nil {
			return fmt.Errorf("app %q: %w", app, err)
		}
		if app == ServiceAccount || app == AuditAccount || app == identity.AdminAccount || slices.Contains(apps[:i], app) {
			return fmt.Errorf("app %q is reserved or named twice", app)
		}
	}
	return nil
}

// secret returns 24 random bytes, base64url: no character needs quoting
// in a configuration file or a shell.
func secret(rnd io.Reader) (string, error) {
	b := make([]byte, 24)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Lookup returns the credential of principal.
func (c Config) Lookup(principal string) (Credential, error) {
	for _, cr := range c.Credentials {
		if cr.Principal == principal {
			return cr, nil
		}
	}
	return Credential{}, fmt.Errorf("%w: %q", ErrNoSuchPrincipal, principal)
}

// InboxPrefix is the reply-inbox prefix of a principal of kind (the
// Credential's Kind) named principal: the only subjects under which NATS
// lets it subscribe for replies. Prefixes of different principals never
// overlap, so no principal can subscribe to another's replies:
// "_INBOX.user.<app>.<handle>" for an end user "<app>:<handle>",
// "_INBOX.app.<app>" for an app's backend, "_INBOX.<kind>" for the
// admin, the auditor and the service.
func InboxPrefix(kind, principal string) string {
	switch kind {
	case string(identity.KindUser):
		return "_INBOX.user." + strings.Replace(principal, ":", ".", 1)
	case string(identity.KindApp):
		return "_INBOX.app." + principal
	}
	return "_INBOX." + kind
}
