package authcallout

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/crosstalk-dev/crosstalk/events"
)

// TokenAudience is the "aud" of every device token: it keeps a token from
// being mistaken for any other JWT the app's key might sign, and the other
// way round.
const TokenAudience = "crosstalk"

// The reasons a device token is refused; Verify wraps one of them.
var (
	// ErrMalformed reports a token that is not a JWT signed by the key its
	// "iss" names (a forged or altered token), or whose "aud" is not
	// TokenAudience, or whose "sub" is not an account "<app>:<handle>".
	ErrMalformed = errors.New("malformed device token")
	// ErrUnknownKey reports a token signed by a key no app registered.
	ErrUnknownKey = errors.New("device token signed by an unregistered key")
	// ErrWrongApp reports a token whose "sub" is an account of another app
	// than the one that registered the signing key.
	ErrWrongApp = errors.New("device token names an account of another app")
	// ErrExpired reports a token past its "exp" (or before its "nbf").
	ErrExpired = errors.New("device token expired")
	// ErrLifetime reports a token without "exp", or whose "exp" is further
	// away than the callout's MaxTokenLifetime.
	ErrLifetime = errors.New("device token lifetime not allowed")
)

// Token is what a verified device token says.
type Token struct {
	// Account is the end user the token stands for, "<app>:<handle>".
	Account events.Account
	// Expires is the token's "exp": the NATS user the callout issues ends
	// then, and so does its connection.
	Expires time.Time
	// Key is the app's public key that signed it.
	Key string
}

// Mint signs a device token for account with the app's key, valid for ttl
// from now: the JWT an app's backend hands to a device after its own login.
// Any language's nats-io JWT and nkeys libraries make the same token
// (docs/security.md has the format).
func Mint(appKey nkeys.KeyPair, account events.Account, ttl time.Duration, now time.Time) (string, error) {
	if _, err := events.ParseAccount(string(account)); err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", fmt.Errorf("%w: ttl %s must be positive", ErrLifetime, ttl)
	}
	c := jwt.NewGenericClaims(string(account))
	c.Audience = TokenAudience // iat and jti: the library sets them
	c.Expires = now.Add(ttl).Unix()
	return c.Encode(appKey)
}

// Verify checks token against the registered app keys at now, allowing a
// lifetime of at most maxLifetime from now, and says whom it stands for.
// Every refusal wraps one of the errors above.
func Verify(token string, keys Keys, now time.Time, maxLifetime time.Duration) (Token, error) {
	c, err := jwt.DecodeGeneric(token)
	if err != nil {
		return Token{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if c.Audience != TokenAudience {
		return Token{}, fmt.Errorf("%w: aud %q, want %q", ErrMalformed, c.Audience, TokenAudience)
	}
	account, err := events.ParseAccount(c.Subject)
	if err != nil {
		return Token{}, fmt.Errorf("%w: sub: %v", ErrMalformed, err)
	}
	app, ok := keys.App(c.Issuer)
	if !ok {
		return Token{}, fmt.Errorf("%w: %s", ErrUnknownKey, c.Issuer)
	}
	if account.App() != app {
		return Token{}, fmt.Errorf("%w: %s signed by a key of %s", ErrWrongApp, account, app)
	}
	if err := checkTimes(c.ClaimsData, now, maxLifetime); err != nil {
		return Token{}, err
	}
	return Token{Account: account, Expires: time.Unix(c.Expires, 0), Key: c.Issuer}, nil
}

// checkTimes refuses a token outside [nbf, exp), without an exp, or one
// whose exp lies more than maxLifetime ahead.
func checkTimes(c jwt.ClaimsData, now time.Time, maxLifetime time.Duration) error {
	if c.Expires == 0 {
		return fmt.Errorf("%w: no exp", ErrLifetime)
	}
	exp := time.Unix(c.Expires, 0)
	if !now.Before(exp) {
		return fmt.Errorf("%w at %s", ErrExpired, exp.UTC().Format(time.RFC3339))
	}
	if c.NotBefore != 0 && now.Before(time.Unix(c.NotBefore, 0)) {
		return fmt.Errorf("%w: not valid before %s", ErrExpired, time.Unix(c.NotBefore, 0).UTC().Format(time.RFC3339))
	}
	if exp.Sub(now) > maxLifetime {
		return fmt.Errorf("%w: exp %s is more than %s away", ErrLifetime, exp.UTC().Format(time.RFC3339), maxLifetime)
	}
	return nil
}
