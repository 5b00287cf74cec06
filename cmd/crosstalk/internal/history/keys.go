package history

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"os"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/node"
)

// Options reads the public key files into the options of audit.VerifyWith.
func (s Signatures) Options() (audit.VerifyOptions, error) {
	if len(s.PublicKeys) == 0 {
		if s.SignedFrom != 0 {
			return audit.VerifyOptions{}, fmt.Errorf("--signed-from needs --public-key")
		}
		return audit.VerifyOptions{}, nil
	}
	keys := make([]ed25519.PublicKey, 0, len(s.PublicKeys))
	for _, path := range s.PublicKeys {
		data, err := os.ReadFile(path)
		if err != nil {
			return audit.VerifyOptions{}, fmt.Errorf("--public-key: %w", err)
		}
		key, err := events.ParsePublicKey(data)
		if err != nil {
			return audit.VerifyOptions{}, fmt.Errorf("--public-key %s: %w", path, err)
		}
		keys = append(keys, key)
	}
	return audit.VerifyOptions{Keys: events.NewPublicKeys(keys...), SignedFrom: s.SignedFrom}, nil
}

// PrintPublicKey prints the public key of the signing key file at path.
func PrintPublicKey(path string, stdout, stderr io.Writer) error {
	signer, err := node.ReadSigningKey(path)
	if err != nil {
		return err
	}
	pemKey, err := events.MarshalPublicKey(signer.PublicKey())
	if err != nil {
		return err
	}
	if _, err := stdout.Write(pemKey); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stderr, "key id: %s\n", signer.KeyID())
	return err
}

// Signatures are audit verify's flags about signatures.
type Signatures struct {
	PublicKeys []string
	SignedFrom uint64
}
