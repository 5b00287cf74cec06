package events_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
)

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestSignatureVerifiesWhatWasSigned(t *testing.T) {
	key := newKey(t)
	s := events.NewSigner(key)
	subject := events.ConversationSubject("0190c2d4-0000-7000-8000-000000000001")
	data := []byte(`{"specversion":"1.0"}`)
	header := s.Sign(subject, data)

	id, encoded, ok := strings.Cut(header, " ")
	sum := sha256.Sum256(key.Public().(ed25519.PublicKey))
	if !ok || id != hex.EncodeToString(sum[:8]) || id != s.KeyID() || len(id) != 16 {
		t.Fatalf("header %q: want \"<16 hex digits of sha256(public key)> <signature>\"", header)
	}
	sig, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || !ed25519.Verify(s.PublicKey(), []byte("crosstalk-event-signature-v1\n"+subject+"\n"+string(data)), sig) {
		t.Fatalf("the signature is not ed25519 over the documented bytes: %v", err)
	}
	if again := s.Sign(subject, data); again != header {
		t.Fatal("signing the same bytes twice differs: a retried append would not be a duplicate")
	}
	keys := events.NewPublicKeys(newKey(t).Public().(ed25519.PublicKey), s.PublicKey())
	if got, err := keys.Verify(subject, data, header); err != nil || got != s.KeyID() {
		t.Fatalf("Verify = %q, %v; want %s, nil", got, err, s.KeyID())
	}
}

func TestSignatureRefusesEverythingElse(t *testing.T) {
	s := events.NewSigner(newKey(t))
	subject, data := events.PolicySubject, []byte(`{"a":1}`)
	header := s.Sign(subject, data)
	keys := events.NewPublicKeys(s.PublicKey())
	other := events.NewSigner(newKey(t))
	id, _, _ := strings.Cut(header, " ")
	for _, tc := range []struct {
		name            string
		subject, header string
		data            []byte
		want            error
	}{
		{"no header", subject, "", data, events.ErrUnsigned},
		{"another subject", events.AccountSubject("instagram:alice"), header, data, events.ErrBadSignature},
		{"other bytes", subject, header, []byte(`{"a":2}`), events.ErrBadSignature},
		{"another key", subject, other.Sign(subject, data), data, events.ErrUnknownKey},
		{"another key under our id", subject, id + other.Sign(subject, data)[16:], data, events.ErrBadSignature},
		{"no key id", subject, strings.TrimPrefix(header, id+" "), data, events.ErrBadSignature},
		{"not base64", subject, id + " %%%", data, events.ErrBadSignature},
		{"short signature", subject, id + " " + base64.StdEncoding.EncodeToString([]byte("short")), data, events.ErrBadSignature},
		{"huge header", subject, strings.Repeat("x", 1<<20), data, events.ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := keys.Verify(tc.subject, tc.data, tc.header)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if err != nil && len(err.Error()) > 200 {
				t.Fatalf("error of %d bytes: a hostile header must not be echoed whole", len(err.Error()))
			}
		})
	}
	if _, err := events.PublicKeys(nil).Verify(subject, data, header); !errors.Is(err, events.ErrUnknownKey) {
		t.Fatalf("no keys: %v", err)
	}
}

func TestKeyFilesRoundTrip(t *testing.T) {
	key := newKey(t)
	priv, err := events.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(priv, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Fatalf("private key file:\n%s", priv)
	}
	back, err := events.ParsePrivateKey(priv)
	if err != nil || !back.Equal(key) {
		t.Fatalf("ParsePrivateKey = %v", err)
	}
	pub, err := events.MarshalPublicKey(key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pub, []byte("-----BEGIN PUBLIC KEY-----\n")) {
		t.Fatalf("public key file:\n%s", pub)
	}
	backPub, err := events.ParsePublicKey(append([]byte("a comment before the block\n"), pub...))
	if err != nil || !backPub.Equal(key.Public()) {
		t.Fatalf("ParsePublicKey = %v", err)
	}
	for name, parse := range map[string]func([]byte) error{
		"private as public": func(b []byte) error { _, err := events.ParsePublicKey(b); return err },
		"public as private": func(b []byte) error { _, err := events.ParsePrivateKey(b); return err },
	} {
		in := priv
		if name == "public as private" {
			in = pub
		}
		if err := parse(in); !errors.Is(err, events.ErrKeyFormat) {
			t.Errorf("%s: %v, want ErrKeyFormat", name, err)
		}
	}
	if _, err := events.ParsePublicKey([]byte("not pem")); !errors.Is(err, events.ErrKeyFormat) {
		t.Errorf("not PEM: %v", err)
	}
}
