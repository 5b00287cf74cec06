package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// ErrNotLoopback is returned when a node in development mode (no NATS
// configuration, no credentials) would listen beyond this machine: anyone
// who reaches it could act as any account.
var ErrNotLoopback = errors.New("development mode listens on loopback only")

// ErrConfigWithURL is returned when Options name both a configuration file
// for the embedded server and an external server.
var ErrConfigWithURL = errors.New("a NATS configuration file configures the embedded server, not an external one")

// DevelopmentMode reports whether o configures no authentication at all:
// no configuration file and no credentials. Identities are then
// self-declared: the service believes the actor and viewer a request names.
func (o Options) DevelopmentMode() bool {
	return o.NatsConfig == "" && o.Credentials.IsZero()
}

// applyIdentity decides how the node authenticates: under a configuration
// file or with credentials the service enforces identities, and connects as
// the file's service user unless told otherwise; in development mode it
// warns once and refuses to listen beyond loopback unless Insecure.
func (o *Options) applyIdentity() error {
	if o.NatsConfig != "" && o.NatsURL != "" {
		return ErrConfigWithURL
	}
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

// logIdentity says, once, under which identity configuration the node runs.
func (o *Options) logIdentity() {
	if o.DevelopmentMode() {
		return
	}
	o.Logger.Info("identities enforced", slog.String("nats_config", o.NatsConfig),
		slog.Bool("creds_file", o.Credentials.CredsFile != ""), slog.String("user", o.Credentials.User))
}
