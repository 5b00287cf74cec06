package testkit

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Signer returns an event signer with a new ed25519 key, as a node makes
// on its first start.
func Signer(t testing.TB) *events.Signer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return events.NewSigner(key)
}
