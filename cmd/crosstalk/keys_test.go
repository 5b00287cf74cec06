package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/node/nodetest"
)

// startBackupNode runs a node on dir for one step of a backup story.
func startBackupNode(ctx context.Context, t *testing.T, dir string) *nodetest.Live {
	t.Helper()
	return nodetest.Start(ctx, t, node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet()})
}

// halt stops b, a step of the story, and fails the test if the stop fails.
func halt(t *testing.T, b *nodetest.Live) {
	t.Helper()
	if err := b.Halt(); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies the directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		to := filepath.Join(dst, strings.TrimPrefix(path, src))
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// restore replaces stream name in dir's JetStream store by its copy in
// backup, and drops the views, which the next start rebuilds from the log.
func restore(t *testing.T, dir, backup, name string) {
	t.Helper()
	live := filepath.Join(dir, "jetstream", "jetstream", "$G", "streams", name)
	if err := os.RemoveAll(live); err != nil {
		t.Fatal(err)
	}
	copyTree(t, filepath.Join(backup, name), live)
	for _, v := range []string{"views", "views.rebuild", "views.current"} {
		if err := os.RemoveAll(filepath.Join(dir, v)); err != nil {
			t.Fatal(err)
		}
	}
}

// Backups taken before an erasure stay erased when restored after it. A
// backup of the keys stream brings the erased keys back (the erased
// messages read again) until 'crosstalk keys reerase' applies the log's
// erasures to it; a backup of the event stream holds no key, and restored
// beside the erased keys it reads as erased. The other account's messages
// read throughout.
func TestBackupsTakenBeforeAnErasureStayErased(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, backup := t.TempDir(), t.TempDir()
	b := startBackupNode(ctx, t, dir)
	conv := b.Command(ctx, t, "conversation.start", map[string]any{"actor": "instagram:ann", "participants": []string{"instagram:bob"}}).ConversationID
	for _, m := range [][2]string{{"instagram:ann", "ann one"}, {"instagram:bob", "bob one"}, {"instagram:ann", "ann two"}} {
		b.Command(ctx, t, "message.send", map[string]any{"actor": m[0], "conversation_id": conv, "text": m[1]})
	}
	halt(t, b)
	streams := filepath.Join(dir, "jetstream", "jetstream", "$G", "streams")
	for _, s := range []string{"CROSSTALK", "CROSSTALK_KEYS"} {
		copyTree(t, filepath.Join(streams, s), filepath.Join(backup, s))
	}
	b = startBackupNode(ctx, t, dir)
	b.Command(ctx, t, "account.erase", map[string]any{"actor": "instagram:ann"})
	want := "erased:account_erased bob one erased:account_erased"
	if got := b.Texts(ctx, t, conv, "instagram:bob"); strings.Join(got, " ") != want {
		t.Fatalf("after the erasure: %q", got)
	}
	if n := b.Opened(ctx, t, "instagram:ann"); n != 0 {
		t.Fatalf("%d of ann's messages open after her erasure", n)
	}
	halt(t, b)

	restore(t, dir, backup, "CROSSTALK_KEYS")
	b = startBackupNode(ctx, t, dir)
	if n := b.Opened(ctx, t, "instagram:ann"); n != 2 {
		t.Fatalf("the keys restored from before the erasure open %d of ann's 2 messages: the test proves nothing", n)
	}
	halt(t, b)
	if out, errOut, err := runCLI(ctx, "keys", "reerase", "--data", dir); err != nil || !strings.Contains(out, "re-erased: 1 trees") {
		t.Fatalf("keys reerase: %v\n%s%s", err, out, errOut)
	}
	b = startBackupNode(ctx, t, dir)
	if got := b.Texts(ctx, t, conv, "instagram:bob"); strings.Join(got, " ") != want || b.Opened(ctx, t, "instagram:ann") != 0 ||
		b.Opened(ctx, t, "instagram:bob") != 1 {
		t.Fatalf("after reerase: %q, ann's open: %d", got, b.Opened(ctx, t, "instagram:ann"))
	}
	halt(t, b)

	restore(t, dir, backup, "CROSSTALK")
	b = startBackupNode(ctx, t, dir)
	if got := b.Texts(ctx, t, conv, "instagram:bob"); strings.Join(got, " ") != "erased:key_erased bob one erased:key_erased" {
		t.Fatalf("the event stream restored from before the erasure: %q", got)
	}
	halt(t, b)
}
