package backup_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/backup"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/node"
)

// A node's whole history, backed up while it runs and restored into a
// fresh server, is the same history: every stream crosstalk owns is in the
// backup (the leases left out), the restored log's audit checksum is the
// backup's, and a serve on the restored server answers with the same
// messages, their sealed texts opened by the same master key (and by no
// other). A second restore into that server is refused.
func TestBackupRestoresTheWholeNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, dir, bdir := natstest.Start(t), t.TempDir(), filepath.Join(t.TempDir(), "backup")
	first := start(ctx, t, srv.URL(), dir, "", func(o *node.Options) { o.DurableFeeds = true })
	conv := first.history(ctx, t)
	want := first.texts(ctx, t, conv)

	var shown []uint64
	m, err := backup.Backup(ctx, first.Node.Conn(), backup.Options{Dir: bdir, SigningKey: publicKey(t, dir),
		Progress: func(done, total uint64) { shown = append(shown, done, total) }, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	checkManifest(ctx, t, m, first)
	if len(shown) == 0 || shown[len(shown)-2] != shown[len(shown)-1] || shown[len(shown)-1] == 0 {
		t.Errorf("progress %v: want reports ending at the whole", shown)
	}
	if pem, err := os.ReadFile(filepath.Join(bdir, backup.PublicKeyFile)); err != nil || string(pem) != m.SigningKey.PEM {
		t.Errorf("%s: %v, %q", backup.PublicKeyFile, err, pem)
	}
	if err := first.Halt(); err != nil {
		t.Fatal(err)
	}

	fresh := natstest.Start(t)
	nc := fresh.Connect(t)
	r, err := backup.Restore(ctx, nc, backup.RestoreOptions{Dir: bdir, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Checksum.Hex != m.Checksum.Hex || len(r.Replicas) != len(m.Streams) {
		t.Fatalf("restored: sum %s, %d streams; the backup's %s, %d", r.Checksum.Hex, len(r.Replicas), m.Checksum.Hex, len(m.Streams))
	}
	_, err = backup.Restore(ctx, nc, backup.RestoreOptions{Dir: bdir, Logger: testkit.Quiet()})
	if !errors.Is(err, backup.ErrStreamsExist) || !strings.Contains(err.Error(), "CROSSTALK, ") {
		t.Fatalf("a second restore: %v, want %v naming CROSSTALK", err, backup.ErrStreamsExist)
	}

	// A node with a master key of its own refuses the restored keys rather
	// than reading every text as erased: the master key is kept apart from
	// the backup, and the restore needs it.
	_, err = node.Start(ctx, node.Options{Dir: t.TempDir(), NatsURL: fresh.URL(), Logger: testkit.Quiet()})
	if !errors.Is(err, keyring.ErrMasterKey) {
		t.Fatalf("a node with another master key on the restored streams: %v, want keyring.ErrMasterKey", err)
	}
	readsAsBefore(ctx, t, fresh.URL(), dir, conv, want)
}

// checkManifest checks that m lists every stream crosstalk owns, with the
// log's checksum as the node sums it now.
func checkManifest(ctx context.Context, t *testing.T, m backup.Manifest, l *live) {
	t.Helper()
	const want = "-KV_CROSSTALK_LEASES feed:CROSSTALK_FEED_instagram feed:CROSSTALK_FEED_messenger feed:CROSSTALK_FEED_thirdparty-birdychat " +
		"intake:CROSSTALK_INTAKE_instagram intake:CROSSTALK_INTAKE_messenger " +
		"intake:CROSSTALK_INTAKE_thirdparty-birdychat keys:CROSSTALK_KEYS log:CROSSTALK outcomes:KV_CROSSTALK_OUTCOMES rejections:CROSSTALK_AUDIT snapshots:KV_CROSSTALK_SNAPSHOTS"
	if got := roles(m); got != want {
		t.Errorf("streams\n got %s\nwant %s", got, want)
	}
	if m.Streams[0].Name != "CROSSTALK" {
		t.Errorf("the first snapshot is %s: the log goes before the keys", m.Streams[0].Name)
	}
	for _, s := range m.Streams {
		// The intake's are decided, so gone; only the story's app has notes.
		if s.State.Msgs == 0 && s.Role != backup.RoleIntake && s.Name != "CROSSTALK_FEED_messenger" && s.Name != "CROSSTALK_FEED_thirdparty-birdychat" {
			t.Errorf("stream %s is empty in the backup: the story proves nothing about it", s.Name)
		}
	}
	sum, err := audit.ChecksumStreams(ctx, l.Node.Log(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Checksum.Hex != sum.Hex || m.Checksum.Events == 0 {
		t.Errorf("manifest checksum %+v, the log's %+v", m.Checksum, sum)
	}
}
