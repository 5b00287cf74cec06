package node_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// The first start creates DIR/signing.key (0600) and signs with it; later
// starts keep it. A key file that is named must exist: a node never signs
// under a key it made up in place of the one it was given.
func TestSigningKeyLivesInTheDataDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	n, r, stop := startWithConversation(ctx, t, dir)
	key := n.Layout().SigningKey()
	m, err := n.Log().Get(ctx, r.StreamSeq)
	if err := errors.Join(err, stop()); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(key)
	if err != nil || info.Mode().Perm() != 0o600 || key != filepath.Join(dir, "signing.key") {
		t.Fatalf("signing key %s: %v, %v", key, info, err)
	}
	signer, err := node.ReadSigningKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if m.Signature == "" || m.Signature[:16] != signer.KeyID() {
		t.Fatalf("the event is not signed by the key in the directory: %q, key %s", m.Signature, signer.KeyID())
	}

	_, _, stop = startWithConversation(ctx, t, dir)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	again, err := node.ReadSigningKey(key)
	if err != nil || again.KeyID() != signer.KeyID() {
		t.Fatalf("a restart changed the key: %v", err)
	}

	_, err = node.Start(ctx, node.Options{Dir: t.TempDir(), Listen: "127.0.0.1:0", Logger: testkit.Quiet(),
		SigningKey: filepath.Join(t.TempDir(), "missing.key")})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a named key file that is missing: %v, want fs.ErrNotExist", err)
	}
}
