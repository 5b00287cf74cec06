package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/history"
	"github.com/crosstalk-dev/crosstalk/node"
)

func addSignatureFlags(cmd *cobra.Command, s *history.Signatures) {
	f := cmd.Flags()
	f.StringArrayVar(&s.PublicKeys, "public-key", nil,
		"check events' signatures against the public key in this PEM file (repeatable: keys before and after a rotation)")
	f.Uint64Var(&s.SignedFrom, "signed-from", 0,
		"require a signature on every event from this stream sequence on (0: from the first signed event); needs --public-key")
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
			return history.PrintPublicKey(keyFile, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "data", node.DefaultDir, "data directory of a crosstalk node (its key is DIR/signing.key)")
	f.StringVar(&keyFile, "signing-key", "", "the signing key file instead (as given to 'serve --signing-key')")
	cmd.MarkFlagsMutuallyExclusive("data", "signing-key")
	return cmd
}
