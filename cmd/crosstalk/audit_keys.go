package main

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/node"
)

// signatureFlags are audit verify's flags about signatures.
type signatureFlags struct {
	PublicKeys []string
	SignedFrom uint64
}

func addSignatureFlags(cmd *cobra.Command, s *signatureFlags) {
	f := cmd.Flags()
	f.StringArrayVar(&s.PublicKeys, "public-key", nil,
		"check events' signatures against the public key in this PEM file (repeatable: keys before and after a rotation)")
	f.Uint64Var(&s.SignedFrom, "signed-from", 0,
		"require a signature on every event from this stream sequence on (0: from the first signed event); needs --public-key")
}

// options reads the public key files into the options of audit.VerifyWith.
func (s signatureFlags) options() (audit.VerifyOptions, error) {
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

func newAuditPublicKeyCommand(stdout, stderr io.Writer) *cobra.Command {
	var dir, keyFile string
	cmd := &cobra.Command{
		Use:   "public-key",
		Short: "Print the public key of a node's signing key, for audit verify --public-key",
		Long: `public-key prints, as a PEM "PUBLIC KEY" block on stdout, the public half of
the ed25519 key a node signs its events with: DIR/signing.key (--data, the
default ./crosstalk-data) or the file given to 'serve --signing-key'. Its key
id (what events' Crosstalk-Signature headers name) goes to stderr.

It only reads the key file, so it also works while the node runs. Give the
output to auditors: 'crosstalk audit verify --public-key FILE' checks every
event's signature with it. openssl prints the same key:
  openssl pkey -in DIR/signing.key -pubout`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if keyFile == "" {
				keyFile = node.Layout{Dir: dir}.SigningKey()
			}
			return printPublicKey(keyFile, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "data", node.DefaultDir, "data directory of a crosstalk node (its key is DIR/signing.key)")
	f.StringVar(&keyFile, "signing-key", "", "the signing key file instead (as given to 'serve --signing-key')")
	cmd.MarkFlagsMutuallyExclusive("data", "signing-key")
	return cmd
}

// printPublicKey prints the public key of the signing key file at path.
func printPublicKey(path string, stdout, stderr io.Writer) error {
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
