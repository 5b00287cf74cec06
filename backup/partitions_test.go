package backup_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/backup"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// A partitioned log is backed up stream by stream, as eventlog lays it
// out, and restored whole: the same checksum over P0, P1 and POLICY, and
// the same messages.
func TestBackupOfAPartitionedLog(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, dir, bdir := natstest.Start(t), t.TempDir(), filepath.Join(t.TempDir(), "backup")
	first := start(ctx, t, srv.URL(), dir, "", func(o *node.Options) { o.Partitions = 2 })
	conv, want, m := first.backUp(ctx, t, bdir)
	if got := strings.Join(m.Log, " "); got != "CROSSTALK_P0 CROSSTALK_P1 CROSSTALK_POLICY" || len(m.Checksum.Streams) != 3 {
		t.Fatalf("the log in the manifest: %s, %d sums", got, len(m.Checksum.Streams))
	}
	fresh := natstest.Start(t)
	r, err := backup.Restore(ctx, fresh.Connect(t), backup.RestoreOptions{Dir: bdir, Logger: testkit.Quiet()})
	if err != nil || r.Checksum.Hex != m.Checksum.Hex {
		t.Fatalf("restore: %v, sum %s; the backup's %s", err, r.Checksum.Hex, m.Checksum.Hex)
	}
	readsAsBefore(ctx, t, fresh.URL(), dir, conv, want)
}

// A restore whose log does not sum to the manifest's checksum (here a
// manifest edited after the backup) fails, naming both sums; and a
// directory without a manifest is no backup.
func TestRestoreChecksMismatchAndManifest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, bdir := natstest.Start(t), filepath.Join(t.TempDir(), "backup")
	first := start(ctx, t, srv.URL(), t.TempDir(), "", nil)
	first.history(ctx, t)
	m, err := backup.Backup(ctx, first.Node.Conn(), backup.Options{Dir: bdir, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Backup(ctx, first.Node.Conn(), backup.Options{Dir: bdir}); !errors.Is(err, backup.ErrExists) {
		t.Fatalf("a backup into a backup: %v, want %v", err, backup.ErrExists)
	}
	if err := first.Halt(); err != nil {
		t.Fatal(err)
	}
	real := m.Checksum.Hex
	m.Checksum.Hex = strings.Repeat("0", 64)
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(bdir, backup.ManifestFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = backup.Restore(ctx, natstest.Start(t).Connect(t), backup.RestoreOptions{Dir: bdir, Logger: testkit.Quiet()})
	if !errors.Is(err, backup.ErrChecksumMismatch) || !strings.Contains(err.Error(), real) {
		t.Fatalf("restore against an edited manifest: %v, want %v naming %s", err, backup.ErrChecksumMismatch, real)
	}
	_, err = backup.Restore(ctx, natstest.Start(t).Connect(t), backup.RestoreOptions{Dir: t.TempDir()})
	if !errors.Is(err, backup.ErrManifest) {
		t.Fatalf("restore from an empty directory: %v, want %v", err, backup.ErrManifest)
	}
}
