package authcallout_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/crosstalk-dev/crosstalk/authcallout"
)

// Verify names why it refuses each bad token, and says whom a good one
// stands for.
func TestVerify(t *testing.T) {
	insta, _ := nkeys.CreateAccount()
	msgr, _ := nkeys.CreateAccount()
	stranger, _ := nkeys.CreateAccount()
	instaPub, _ := insta.PublicKey()
	msgrPub, _ := msgr.PublicKey()
	keys := authcallout.Keys{"instagram": {instaPub}, "messenger": {msgrPub}}
	now := time.Unix(1_800_000_000, 0)
	good := mint(t, insta, "instagram:alice", 5*time.Minute, now)

	got, err := authcallout.Verify(good, keys, now, time.Hour)
	if err != nil || got.Account != "instagram:alice" || got.Key != instaPub || !got.Expires.Equal(now.Add(5*time.Minute)) {
		t.Fatalf("a good token: %+v, %v", got, err)
	}
	for name, c := range map[string]struct {
		token string
		at    time.Time
		want  error
	}{
		"expired":          {good, now.Add(5 * time.Minute), authcallout.ErrExpired},
		"not yet valid":    {withNotBefore(t, insta, now), now, authcallout.ErrExpired},
		"bad signature":    {resign(t, good, stranger), now, authcallout.ErrMalformed},
		"altered subject":  {alterSubject(t, good, "instagram:carol"), now, authcallout.ErrMalformed},
		"unregistered key": {mint(t, stranger, "instagram:alice", time.Minute, now), now, authcallout.ErrUnknownKey},
		"other app":        {mint(t, insta, "messenger:bob", time.Minute, now), now, authcallout.ErrWrongApp},
		"too long":         {mint(t, insta, "instagram:alice", 2*time.Hour, now), now, authcallout.ErrLifetime},
		"no exp":           {withAudience(t, insta, "instagram:alice", authcallout.TokenAudience), now, authcallout.ErrLifetime},
		"another audience": {withAudience(t, insta, "instagram:alice", "nats"), now, authcallout.ErrMalformed},
		"not an account":   {withAudience(t, insta, "alice", authcallout.TokenAudience), now, authcallout.ErrMalformed},
		"not a JWT":        {"instagram:alice", now, authcallout.ErrMalformed},
	} {
		if _, err := authcallout.Verify(c.token, keys, c.at, time.Hour); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

// withNotBefore is a good token for instagram:alice that is valid only a
// minute after now.
func withNotBefore(t *testing.T, kp nkeys.KeyPair, now time.Time) string {
	t.Helper()
	return mintClaims(t, kp, func(c *claimsEdit) {
		c.NotBefore = now.Add(time.Minute).Unix()
		c.Expires = now.Add(5 * time.Minute).Unix()
	})
}

// The key files are private, never overwritten, and read back as written;
// a keys file that registers a bad key or one key for two apps is refused.
func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	issuer, _ := nkeys.CreateAccount()
	apps := []string{"instagram", "messenger"}
	if err := authcallout.WriteKeyFiles(dir, issuer, apps); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{authcallout.IssuerSeedFile, authcallout.KeysFile, authcallout.AppSeedFile("instagram")} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", name, err)
		}
	}
	if err := authcallout.WriteKeyFiles(dir, issuer, apps); !errors.Is(err, os.ErrExist) {
		t.Errorf("writing again: %v, want os.ErrExist", err)
	}
	keys, err := authcallout.ReadKeys(filepath.Join(dir, authcallout.KeysFile))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := authcallout.ReadSeed(filepath.Join(dir, authcallout.AppSeedFile("messenger")))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	if app, ok := keys.App(pub); !ok || app != "messenger" {
		t.Errorf("messenger's key belongs to %q, %v", app, ok)
	}
	for name, k := range map[string]authcallout.Keys{
		"user key":    {"instagram": {"UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"}},
		"two apps":    {"instagram": {pub}, "messenger": {pub}},
		"invalid app": {"Instagram": {pub}},
	} {
		if err := k.Validate(); !errors.Is(err, authcallout.ErrBadKey) {
			t.Errorf("%s: %v, want ErrBadKey", name, err)
		}
	}
}

// Run refuses to start without its connection, an issuer key and at
// least one app key.
func TestRunNeedsItsOptions(t *testing.T) {
	issuer, _ := nkeys.CreateAccount()
	for name, o := range map[string]authcallout.Options{
		"nothing":       {},
		"no connection": {Issuer: issuer, Keys: authcallout.Keys{"instagram": {"A"}}},
	} {
		if err := authcallout.Run(t.Context(), o); !errors.Is(err, authcallout.ErrOptions) {
			t.Errorf("%s: %v, want ErrOptions", name, err)
		}
	}
}
