//go:build unix

package node_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// The data directory is private whatever the umask (issue 21, finding 7):
// under umask 0, after a start, commands and a stop, every directory under
// it is 0700 and every file 0600 or narrower, views, JetStream store,
// signing key and checkpoints alike; a directory an older version left
// world-readable is tightened at the start.
func TestDataDirectoryIsPrivateWhateverTheUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(filepath.Join(dir, "views"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "views", "LEFT-BY-AN-OLDER-VERSION"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := node.Start(ctx, node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := n.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(n.Conn())
	r, err := c.Command(ctx, "instagram", api.ActionConversationStart,
		map[string]any{"command_id": uuid.NewString(), "actor": "instagram:alice", "participants": []string{"instagram:bob"}})
	if err == nil {
		_, err = c.Command(ctx, "instagram", api.ActionMessageSend, map[string]any{"command_id": uuid.NewString(),
			"actor": "instagram:alice", "conversation_id": r.ConversationID, "text": "private"})
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkPrivate(t, dir)
}

// checkPrivate fails for each file or directory under dir that a group or
// others may read, write or enter.
func checkPrivate(t *testing.T, dir string) {
	t.Helper()
	seen := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		seen++
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if perm := info.Mode().Perm(); perm&^want != 0 {
			t.Errorf("%s is %v, want at most %v", path, perm, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 10 {
		t.Fatalf("only %d entries under %s: not a node's data", seen, dir)
	}
}
