package authcallout_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/crosstalk-dev/crosstalk/authcallout"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Every bad token is refused at connect, with an authorization violation:
// NATS never lets the connection in.
func TestBadTokensAreRefusedAtConnect(t *testing.T) {
	w := newWorld(t)
	insta := w.appKey(t, "instagram")
	stranger, _ := nkeys.CreateAccount()
	valid := w.token(t, "instagram:alice", 5*time.Minute)
	for name, token := range map[string]string{
		"expired":                                mint(t, insta, "instagram:alice", 5*time.Minute, time.Now().Add(-10*time.Minute)),
		"bad signature":                          resign(t, valid, stranger),
		"altered subject":                        alterSubject(t, valid, "instagram:carol"),
		"unregistered key":                       mint(t, stranger, "instagram:alice", 5*time.Minute, time.Now()),
		"other app (messenger:bob by instagram)": mint(t, insta, "messenger:bob", 5*time.Minute, time.Now()),
		"lifetime past the maximum":              mint(t, insta, "instagram:alice", 2*time.Hour, time.Now()),
		"another audience":                       withAudience(t, insta, "instagram:alice", "nats"),
		"no exp":                                 withAudience(t, insta, "instagram:alice", authcallout.TokenAudience),
		"not a JWT":                              "instagram:alice",
		"none":                                   "",
	} {
		_, _, err := w.device(t, "instagram:alice", token)
		if !isAuthViolation(err) {
			t.Errorf("%s: connect: %v, want an authorization violation", name, err)
		}
	}
	if _, err := nats.Connect(w.url, nats.UserInfo("instagram:alice", valid)); !isAuthViolation(err) {
		t.Errorf("a token as a password: %v, want an authorization violation", err)
	}
	if _, _, err := w.device(t, "instagram:alice", valid); err != nil {
		t.Errorf("the valid token: %v", err)
	}
}

// A token replayed after its expiry is refused, and the connection it
// opened ends when it expires: the user NATS issued expires with it.
func TestTokenEndsWithItsExpiry(t *testing.T) {
	w := newWorld(t)
	// exp is in whole seconds: at least 1s, at most 2s from now
	token := mint(t, w.appKey(t, "instagram"), "instagram:alice", 2*time.Second, time.Now().Truncate(time.Second))
	closed, errs := make(chan struct{}), make(chan error, 4)
	nc, err := nats.Connect(w.url, nats.Token(token), nats.NoReconnect(),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	select {
	case <-closed:
		select {
		case err := <-errs:
			if !errors.Is(err, nats.ErrAuthExpired) {
				t.Errorf("the connection ended with %v, want its authentication expired", err)
			}
		default:
			t.Errorf("the connection ended without an error (%v), want its authentication expired", nc.LastError())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the connection outlived its token")
	}
	if _, _, err := w.device(t, "instagram:alice", token); !isAuthViolation(err) {
		t.Errorf("the token replayed after its expiry: %v, want an authorization violation", err)
	}
}

func mint(t *testing.T, kp nkeys.KeyPair, account string, ttl time.Duration, now time.Time) string {
	t.Helper()
	tok, err := authcallout.Mint(kp, events.Account(account), ttl, now)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// resign keeps token's header and claims (its iss still the app's key) and
// signs them with another key.
func resign(t *testing.T, token string, kp nkeys.KeyPair) string {
	t.Helper()
	i := strings.LastIndex(token, ".")
	sig, err := kp.Sign([]byte(token[:i]))
	if err != nil {
		t.Fatal(err)
	}
	return token[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// alterSubject changes the "sub" of token's claims and keeps the signature.
func alterSubject(t *testing.T, token, sub string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(claims), `"sub":"instagram:alice"`, `"sub":"`+sub+`"`, 1)
	if c == string(claims) {
		t.Fatalf("no sub in %s", claims)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(c))
	return strings.Join(parts, ".")
}

// withAudience signs a token for account with aud and no exp.
func withAudience(t *testing.T, kp nkeys.KeyPair, account, aud string) string {
	t.Helper()
	c := jwt.NewGenericClaims(account)
	c.Audience = aud
	if aud != authcallout.TokenAudience {
		c.Expires = time.Now().Add(time.Minute).Unix()
	}
	tok, err := c.Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// claimsEdit is the part of a token's claims a test changes.
type claimsEdit = jwt.ClaimsData

// mintClaims signs a token for instagram:alice after edit changed it.
func mintClaims(t *testing.T, kp nkeys.KeyPair, edit func(*claimsEdit)) string {
	t.Helper()
	c := jwt.NewGenericClaims("instagram:alice")
	c.Audience = authcallout.TokenAudience
	edit(&c.ClaimsData)
	tok, err := c.Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
