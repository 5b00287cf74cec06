package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/keyring"
)

// RotateMasterKey rotates the master key in keyFile (the layout's of
// src.Dir when empty) over the keys stream src reaches: a new key first in
// the file, every tree rewrapped under it with the old records securely
// deleted, the old key dropped from the file (keyring's three steps). A
// rotation that stopped half way goes on from where it was: a file that
// still holds an old key is not given another new one. Every node must be
// stopped, and given the new file before it starts again
// (docs/operations.md, "Rotating the master key"). It returns how many
// trees it rewrapped and the new key's id.
func RotateMasterKey(ctx context.Context, src Source, keyFile string, logger *slog.Logger) (int, string, error) {
	if keyFile == "" {
		keyFile = Layout{Dir: src.Dir}.MasterKey()
	}
	h, err := OpenHistory(ctx, src, false, logger)
	if err != nil {
		return 0, "", err
	}
	defer h.Close()
	if err := beginRotation(keyFile); err != nil {
		return 0, "", err
	}
	master, err := keyring.ReadMaster(keyFile)
	if err != nil {
		return 0, "", err
	}
	n, err := rewrap(ctx, h, master)
	if err != nil {
		return n, master.ID, err
	}
	return n, master.ID, keyring.EndRotation(keyFile)
}

// beginRotation puts a new key first in keyFile, unless a rotation that
// stopped left one there with the old key after it.
func beginRotation(keyFile string) error {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	if len(strings.Fields(string(b))) > 1 {
		return nil
	}
	return keyring.BeginRotation(keyFile)
}

// rewrap rewraps every tree of the keys stream h reaches under master.
func rewrap(ctx context.Context, h *History, master *keyring.Master) (int, error) {
	js, err := jetstream.New(h.Conn())
	if err != nil {
		return 0, err
	}
	if _, err := js.Stream(ctx, keyring.StreamName); errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil // no key made yet: nothing to rewrap
	}
	ring, err := keyring.Open(ctx, js, master, keyring.Options{})
	if err != nil {
		return 0, err
	}
	defer ring.Close()
	return ring.Rewrap(ctx)
}
