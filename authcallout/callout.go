// Package authcallout authenticates crosstalk's end users at scale through
// NATS auth callout: no end user is listed in the server's configuration.
// Each app registers a public key (Keys); its backend, after its own
// login, signs a short-lived device token for "<app>:<handle>" (Mint); the
// device connects to NATS with that token; nats-server asks the callout,
// which checks the token (Verify) and answers with a NATS user placed in
// the app's account, named as the crosstalk account, with exactly that end
// user's permissions (UserPermissions) and expiring with the token.
//
// It runs against a server configured as `crosstalk auth init --callout`
// writes (package natsconf): an authorization { auth_callout } block in
// configuration-file mode, the callout's own user in the AUTH account, and
// the service, auditor, admin and app backends as static auth_users that
// bypass it. docs/security.md walks through it with the stock nats CLI.
package authcallout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Subject is where nats-server sends its authorization requests
// (server.AuthCalloutSubject), in the auth_callout account.
const Subject = "$SYS.REQ.USER.AUTH"

// QueueGroup is the queue group the callout subscribes in, so that several
// callouts share the requests and any one of them may be restarted.
const QueueGroup = "crosstalk-auth-callout"

// Defaults of Options.
const (
	DefaultMaxTokenLifetime = time.Hour
	DefaultPending          = 1024
)

// Options configure Run. Conn, Issuer and Keys are required.
type Options struct {
	// Conn is the callout's connection, as a user of the auth_callout
	// account listed in auth_users. Run does not close it.
	Conn *nats.Conn
	// Issuer signs the answers: the account nkey whose public key is the
	// configuration's auth_callout issuer.
	Issuer nkeys.KeyPair
	// Keys are the apps' registered public keys.
	Keys Keys
	// MaxTokenLifetime refuses a token whose exp lies further ahead
	// (DefaultMaxTokenLifetime, one hour, when zero): tokens are bearer
	// secrets, so a stolen one must not last.
	MaxTokenLifetime time.Duration
	// Pending is how many authorization requests may wait to be answered
	// (DefaultPending when zero); the server times out the rest.
	Pending int
	// Logger logs each refusal at info and each user issued at debug
	// (slog.Default() when nil); never a token.
	Logger *slog.Logger
	// Now is the clock (time.Now when nil), for tests.
	Now func() time.Time
	// Ready, when set, is called once the callout listens, for tests and
	// for the command's log line.
	Ready func()
}

// ErrOptions reports Options that miss a required field or break a rule;
// each violation Options.Validate reports wraps it and ErrInvalidOptions.
var ErrOptions = errors.New("auth callout options")

// EnsureDefaults checks o (Validate) and fills its zero fields with their
// defaults.
func (o *Options) EnsureDefaults() error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.MaxTokenLifetime == 0 {
		o.MaxTokenLifetime = DefaultMaxTokenLifetime
	}
	if o.Pending == 0 {
		o.Pending = DefaultPending
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Run answers the server's authorization requests until ctx is done, then
// unsubscribes. It returns ctx's end as nil, or the error that kept it
// from listening.
func Run(ctx context.Context, o Options) error {
	if err := o.EnsureDefaults(); err != nil {
		return err
	}
	requests := make(chan *nats.Msg, o.Pending)
	sub, err := o.Conn.ChanQueueSubscribe(Subject, QueueGroup, requests)
	if err != nil {
		return fmt.Errorf("auth callout: subscribe to %s: %w", Subject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := o.Conn.Flush(); err != nil {
		return fmt.Errorf("auth callout: %w", err)
	}
	if o.Ready != nil {
		o.Ready()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-requests:
			o.answer(m)
		}
	}
}

// answer answers one authorization request: a user for a valid token, a
// signed refusal otherwise.
func (o Options) answer(m *nats.Msg) {
	req, err := jwt.DecodeAuthorizationRequestClaims(string(m.Data))
	if err != nil {
		o.Logger.Warn("auth callout: undecodable request", slog.Any("error", err))
		return
	}
	userJWT, err := o.authorize(req)
	if err != nil {
		o.Logger.Info("auth callout: refused", slog.String("host", req.ClientInformation.Host),
			slog.Uint64("cid", req.ClientInformation.ID), slog.Any("error", err))
	}
	res := jwt.NewAuthorizationResponseClaims(req.UserNkey)
	res.Audience = req.Server.ID
	res.Jwt = userJWT
	if err != nil {
		res.Error = err.Error()
	}
	signed, err := res.Encode(o.Issuer)
	if err != nil {
		o.Logger.Error("auth callout: sign the answer", slog.Any("error", err))
		return
	}
	if err := m.Respond([]byte(signed)); err != nil {
		o.Logger.Warn("auth callout: answer", slog.Any("error", err))
	}
}

// ErrNoToken reports a connection that presented no token.
var ErrNoToken = errors.New("no device token: connect with the token as the NATS token (nats.Token, nats --token)")

// authorize verifies the connection's token and returns the signed user
// JWT for it.
func (o Options) authorize(req *jwt.AuthorizationRequestClaims) (string, error) {
	if req.ConnectOptions.Token == "" {
		return "", ErrNoToken
	}
	t, err := Verify(req.ConnectOptions.Token, o.Keys, o.Now(), o.MaxTokenLifetime)
	if err != nil {
		return "", err
	}
	userJWT, err := userClaims(req.UserNkey, t).Encode(o.Issuer)
	if err != nil {
		return "", fmt.Errorf("sign the user: %w", err)
	}
	o.Logger.Debug("auth callout: issued", slog.String("account", string(t.Account)),
		slog.Time("expires", t.Expires))
	return userJWT, nil
}
