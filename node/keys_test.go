package node_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/node"
)

// The first start creates DIR/master.key (0600); later starts keep it. A
// master key file that is named must exist, and one others may read is
// refused: a node never wraps keys under a master key it made up in place
// of the one the cluster shares.
func TestMasterKeyLivesInTheDataDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, _, stop := startWithConversation(ctx, t, dir)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "master.key")
	first, err := keyring.ReadMaster(path)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("master key %s: %v, %v", path, info, err)
	}
	_, _, stop = startWithConversation(ctx, t, dir)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if again, err := keyring.ReadMaster(path); err != nil || again.ID != first.ID {
		t.Fatalf("a restart changed the master key: %v", err)
	}

	_, err = node.Start(ctx, node.Options{Dir: t.TempDir(), Listen: "127.0.0.1:0", Logger: testkit.Quiet(),
		MasterKey: filepath.Join(t.TempDir(), "missing.key")})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a named master key file that is missing: %v, want fs.ErrNotExist", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = node.Start(ctx, node.Options{Dir: t.TempDir(), Listen: "127.0.0.1:0", Logger: testkit.Quiet(), MasterKey: path})
	if !errors.Is(err, keyring.ErrMasterKey) {
		t.Fatalf("a master key others may read: %v, want keyring.ErrMasterKey", err)
	}
}
