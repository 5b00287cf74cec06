package node_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/node/nodetest"

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

// A node started on a cluster's streams with another master key than the
// cluster's refuses to start, naming both keys, instead of failing every
// sealed command and query after it started.
func TestNodeRefusesAnotherMasterKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := natstest.Start(t)
	first := nodetest.Run(ctx, t, node.Options{Dir: t.TempDir(), NatsURL: srv.URL(), Logger: testkit.Quiet()})
	c := client.New(first.Conn())
	r, err := c.Command(ctx, "instagram", "conversation.start", map[string]any{"command_id": uuid.NewString(), "actor": "instagram:ann", "participants": []string{"instagram:bob"}})
	if err == nil {
		_, err = c.Command(ctx, "instagram", "message.send", map[string]any{"command_id": uuid.NewString(), "actor": "instagram:ann", "conversation_id": r.ConversationID, "text": "hi"})
	}
	if err != nil {
		t.Fatal(err)
	}
	_, err = node.Start(ctx, node.Options{Dir: t.TempDir(), NatsURL: srv.URL(), Logger: testkit.Quiet()})
	if !errors.Is(err, keyring.ErrMasterKey) || !strings.Contains(err.Error(), "same master key") {
		t.Fatalf("a second node with a master key of its own: %v, want keyring.ErrMasterKey", err)
	}
}

// A refused start leaves no key file behind: the signing key and the
// master key it made are removed, so that the start that follows, with
// the right flags, does not sign or seal under keys nobody was told of.
func TestRefusedStartLeavesNoKeys(t *testing.T) {
	dir := t.TempDir()
	_, err := node.Start(context.Background(), node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet(), Replicas: 3})
	if err == nil {
		t.Fatal("--replicas 3 on one embedded server started")
	}
	for _, f := range []string{"signing.key", "master.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s after a refused start: %v", f, err)
		}
	}
}
