package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/keyring"
)

// openKeys opens the key trees that seal personal content (docs/erasure.md)
// with the master key: the file o.MasterKey, which must exist, or the
// layout's, created if missing. Every node of a cluster needs the same
// master key: copy the first node's file to the others before they start
// (docs/operations.md). A missing file that was named is an error rather
// than a new key: a node with another master key could open no key the
// others made.
func (n *Node) openKeys(ctx context.Context, js jetstream.JetStream, o Options) error {
	path := o.MasterKey
	if path == "" {
		path = n.layout.MasterKey()
		err := keyring.CreateMaster(path)
		switch {
		case err == nil:
			n.made = append(n.made, path)
			o.Logger.Info("created a master key for the keys that seal message content; back it up apart from the streams",
				slog.String("key_file", path))
		case !errors.Is(err, fs.ErrExist):
			return fmt.Errorf("master key: %w", err)
		}
	}
	master, err := keyring.ReadMaster(path)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	n.keys, err = keyring.Open(ctx, js, master, keyring.Options{Replicas: o.Replicas, PlacementTags: o.PlacementTags})
	if err != nil {
		return err
	}
	if err := n.keys.CheckMaster(ctx); err != nil {
		return fmt.Errorf("master key %s: %w", path, err)
	}
	o.Logger.Info("sealing message content", slog.String("master_key_id", master.ID), slog.String("key_file", path))
	return nil
}

// keysOpener is the keyring as the read side opens sealed values with it
// (views.Opener): by account and conversation rather than keyring.Scope.
type keysOpener struct{ r *keyring.Ring }

// Open opens sealed, what account wrote in conversation, bound to ad.
func (k keysOpener) Open(ctx context.Context, account, conversation string, ad []byte, sealed string) (string, error) {
	return k.r.Open(ctx, keyring.Scope{Account: account, Conversation: conversation}, ad, sealed)
}
