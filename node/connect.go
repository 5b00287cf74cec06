package node

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/headerguard"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// Credentials say how crosstalk authenticates to NATS and checks its TLS
// certificate. The zero value connects without credentials, as in
// development mode. At most one of CredsFile and User is set.
type Credentials struct {
	// CredsFile is a standard NATS .creds file (a user JWT and its nkey
	// seed), as nsc writes for decentralized JWT authentication.
	CredsFile string
	// User and Password are a user of a nats-server configuration.
	User     string
	Password string
	// TLSCA is a PEM file of the CA that signed the server's certificate.
	TLSCA string
	// InboxPrefix, when set, replaces nats.go's "_INBOX" as the prefix of
	// the connection's reply subjects (its requests' and JetStream's):
	// under a generated configuration each principal may subscribe only
	// under its own prefix, credentials.json's inbox_prefix.
	InboxPrefix string
	// Context names a nats CLI context: its server and its credentials
	// apply where the URL and the fields above leave them unset (see
	// EnvContext).
	Context string
}

// CredentialsOf are the Credentials of a principal of a generated identity
// configuration (an entry of credentials.json): its user, password and
// inbox prefix.
func CredentialsOf(cr natsconf.Credential) Credentials {
	return Credentials{User: cr.User, Password: cr.Password, InboxPrefix: cr.InboxPrefix}
}

// Who says how c authenticates, for a refusal's message: "as user U",
// "with FILE", "with nats context C", or the environment's.
func (c Credentials) Who() string {
	switch {
	case c.User != "":
		return "as user " + c.User
	case c.CredsFile != "":
		return "with " + c.CredsFile
	case c.Context != "":
		return "with nats context " + c.Context
	}
	return "with the environment's credentials, or none"
}

// ErrCredentials reports credentials that contradict each other.
var ErrCredentials = errors.New("conflicting NATS credentials")

// IsZero reports whether c authenticates with nothing: identities are then
// self-declared.
func (c Credentials) IsZero() bool {
	return c.CredsFile == "" && c.User == "" && c.Password == ""
}

// Validate returns an error wrapping ErrCredentials when c names both a
// .creds file and a user, or a password without a user.
func (c Credentials) Validate() error {
	switch {
	case c.CredsFile != "" && (c.User != "" || c.Password != ""):
		return fmt.Errorf("%w: give a .creds file or a user and password, not both", ErrCredentials)
	case c.User == "" && c.Password != "":
		return fmt.Errorf("%w: a password without a user", ErrCredentials)
	}
	return nil
}

// Options are the nats.go options that apply c.
func (c Credentials) Options() []nats.Option {
	var opts []nats.Option
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.User != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.TLSCA != "" {
		opts = append(opts, nats.RootCAs(c.TLSCA))
	}
	if c.InboxPrefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(c.InboxPrefix))
	}
	return opts
}

// Connect connects to the NATS server at url under the connection name
// name, with opts after crosstalk's own. Every command, the node and the
// offline tools connect through here, so that how crosstalk reaches and
// authenticates to NATS is decided in one place; pass
// Credentials.Options() among opts to authenticate.
func Connect(url, name string, opts ...nats.Option) (*nats.Conn, error) {
	nc, err := nats.Connect(url, append([]nats.Option{nats.Name(name)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	return nc, nil
}

// ConnectWith connects to url as c (or, when c is zero, as the
// environment's EnvCreds or EnvUser/EnvPassword say), under the connection
// name name, with opts after the credentials'.
// An empty url is $NATS_URL, else the server of the nats CLI context
// c.Context names, else nats.DefaultURL; the context's options come
// before c's, so that what was given explicitly wins.
func ConnectWith(url, name string, c Credentials, opts ...nats.Option) (*nats.Conn, error) {
	c = c.withEnvironment()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	url, err := ResolveURL(url, c)
	if err != nil {
		return nil, err
	}
	url, all, err := c.withContext(url, append(c.Options(), opts...))
	if err != nil {
		return nil, err
	}
	if url == "" {
		url = nats.DefaultURL
	}
	return Connect(url, name, all...)
}

// Guard is the nats.go option that makes a serving connection read
// headers through package headerguard, with c's TLS CA for the upgrade the
// guard does itself. The service refuses to enforce identities on a
// connection without it.
func (c Credentials) Guard() (nats.Option, error) {
	d := &headerguard.Dialer{}
	if c.TLSCA != "" {
		pem, err := os.ReadFile(c.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA %s: no PEM certificate in it", c.TLSCA)
		}
		d.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return headerguard.Option(d), nil
}
