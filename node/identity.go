package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// ErrNotLoopback is returned when a node in development mode (no NATS
// configuration, no credentials) would listen beyond this machine: anyone
// who reaches it could act as any account.
var ErrNotLoopback = errors.New("development mode listens on loopback only")

// ErrConfigWithURL is returned when Options name both a configuration file
// for the embedded server and an external server.
var ErrConfigWithURL = errors.New("a NATS configuration file configures the embedded server, not an external one")

// ErrAuthRequired is returned when a node in development mode reaches a
// NATS server that requires authentication (its INFO says auth_required,
// as a server with a no_auth_user does): the deployment authenticates its
// callers, so a node that believes every body would undo it.
var ErrAuthRequired = errors.New("development mode on a NATS server that requires authentication")

// The environment variables that hold credentials, as the nats CLI reads
// them. They count only when Options.Credentials give none.
const (
	EnvUser     = "NATS_USER"
	EnvPassword = "NATS_PASSWORD"
	EnvCreds    = "NATS_CREDS"
)

// DevelopmentMode reports whether o configures no authentication at all:
// no configuration file, no credentials (Credentials, the environment's
// EnvUser/EnvPassword/EnvCreds, a user, password or token in NatsURL).
// Identities are then self-declared: the service believes the actor and
// viewer a request names.
func (o Options) DevelopmentMode() bool {
	return o.NatsConfig == "" && o.Credentials.withEnvironment().IsZero() && !urlHasCredentials(o.NatsURL)
}

// withEnvironment is c, or when c authenticates with nothing, the
// credentials the environment holds (EnvCreds, EnvUser and EnvPassword).
func (c Credentials) withEnvironment() Credentials {
	if !c.IsZero() {
		return c
	}
	c.CredsFile, c.User, c.Password = os.Getenv(EnvCreds), os.Getenv(EnvUser), os.Getenv(EnvPassword)
	return c
}

// urlHasCredentials reports whether any server of urls (nats.go's
// comma-separated list) carries a user, a password or a token: nats.go
// authenticates with them, so they are credentials like any other.
func urlHasCredentials(urls string) bool {
	for _, u := range serverURLs(urls) {
		if u.User != nil {
			return true
		}
	}
	return false
}

// serverURLs parses nats.go's comma-separated server list; a server
// without a scheme is read as nats://, as nats.go does.
func serverURLs(urls string) []*url.URL {
	var out []*url.URL
	for _, s := range strings.Split(urls, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "://") {
			s = "nats://" + s
		}
		if u, err := url.Parse(s); err == nil {
			out = append(out, u)
		} else {
			out = append(out, &url.URL{Host: s}) // not loopback: refused
		}
	}
	return out
}

// applyIdentity decides how the node authenticates: under a configuration
// file or with credentials the service enforces identities, and connects as
// the file's service user unless told otherwise; in development mode it
// warns once and refuses to listen beyond loopback unless Insecure.
func (o *Options) applyIdentity() error {
	o.Credentials = o.Credentials.withEnvironment()
	if err := o.Credentials.Validate(); err != nil {
		return err
	}
	if o.DevelopmentMode() {
		return o.developmentMode()
	}
	o.Service.EnforceIdentity = true
	if o.NatsConfig != "" && o.Credentials.IsZero() {
		svc, err := natsconf.ServiceCredential(o.NatsConfig)
		if err != nil {
			return err
		}
		o.Credentials.User, o.Credentials.Password = svc.User, svc.Password
	}
	return nil
}

func (o *Options) developmentMode() error {
	if o.NatsURL == "" && !o.Insecure && !isLoopback(o.Listen) {
		return fmt.Errorf("%w: %s is not a loopback address, and without authentication anyone who reaches it "+
			"may act as any account", ErrNotLoopback, o.Listen)
	}
	if o.NatsURL != "" && !o.Insecure {
		for _, u := range serverURLs(o.NatsURL) {
			if !isLoopback(net.JoinHostPort(u.Hostname(), "0")) {
				return fmt.Errorf("%w: NATS server %s is not on this machine, and a node without authentication "+
					"believes whoever reaches that server; give credentials (--creds, --user, or %s/%s), or --insecure",
					ErrNotLoopback, u.Host, EnvUser, EnvPassword)
			}
		}
	}
	o.Logger.Warn("development mode: NATS has no authentication, so identities are self-declared " +
		"(the service believes the actor and viewer each request names); see docs/security.md")
	return nil
}

// isLoopback reports whether the listen address host:port binds to
// loopback only.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkServerAuth refuses, in development mode and unless Insecure, a
// server that requires authentication: its INFO says auth_required, or it
// let nc in as a user of its own (a no_auth_user, which INFO does not
// show). The deployment authenticates its callers; a node that believes
// every body would undo it.
func (o *Options) checkServerAuth(nc *nats.Conn) error {
	if !o.DevelopmentMode() || o.Insecure {
		return nil
	}
	user := assignedUser(nc)
	if !nc.AuthRequired() && user == "" {
		return nil
	}
	return fmt.Errorf("%w: %s authenticates its clients (it took this node as user %q), so its callers have "+
		"identities this node would ignore; give the service's credentials (--creds, --user, or %s/%s), or --insecure",
		ErrAuthRequired, nc.ConnectedUrlRedacted(), user, EnvUser, EnvPassword)
}

// assignedUser asks the server which user it took nc for
// ($SYS.REQ.USER.INFO, which every account may ask): "" on a server
// without authentication, or one that does not answer.
func assignedUser(nc *nats.Conn) string {
	m, err := nc.Request("$SYS.REQ.USER.INFO", nil, 2*time.Second)
	if err != nil {
		return ""
	}
	var r struct {
		Data struct {
			User string `json:"user"`
		} `json:"data"`
	}
	if json.Unmarshal(m.Data, &r) != nil {
		return ""
	}
	return r.Data.User
}

// logIdentity says, once, under which identity configuration the node runs.
func (o *Options) logIdentity() {
	if o.DevelopmentMode() {
		return
	}
	o.Logger.Info("identities enforced", slog.String("nats_config", o.NatsConfig),
		slog.Bool("creds_file", o.Credentials.CredsFile != ""), slog.String("user", o.Credentials.User),
		slog.Bool("url_credentials", urlHasCredentials(o.NatsURL)))
}
