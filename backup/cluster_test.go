package backup_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/backup"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// The backup of a node on a 3-server cluster, its streams R3, restores
// into a single server: --replicas 3 is refused there, and by default each
// stream gets 1 replica, the manifest still saying 3; the checksum and
// the messages are the backup's.
func TestBackupOfAClusterRestoresIntoOneServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cluster, dir, bdir := natstest.StartCluster(t, 3), t.TempDir(), filepath.Join(t.TempDir(), "backup")
	first := start(ctx, t, cluster[0].URL(), dir, "", func(o *node.Options) { o.Replicas = 3 })
	conv, want, m := first.backUp(ctx, t, bdir)
	if m.Cluster != "natstest" || m.Streams[0].Name != "CROSSTALK" || m.Streams[0].Config.Replicas != 3 {
		t.Fatalf("manifest: cluster %q, first stream %s R%d; want natstest, CROSSTALK R3",
			m.Cluster, m.Streams[0].Name, m.Streams[0].Config.Replicas)
	}

	single := natstest.Start(t)
	nc := single.Connect(t)
	_, err := backup.Restore(ctx, nc, backup.RestoreOptions{Dir: bdir, Replicas: 3, Logger: testkit.Quiet()})
	if !errors.Is(err, backup.ErrReplicas) {
		t.Fatalf("--replicas 3 into a single server: %v, want %v", err, backup.ErrReplicas)
	}
	r, err := backup.Restore(ctx, nc, backup.RestoreOptions{Dir: bdir, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Streams {
		info, err := single.JetStream(t).Stream(ctx, s.Name)
		if err != nil || r.Replicas[s.Name] != 1 || info.CachedInfo().Config.Replicas != 1 {
			t.Errorf("%s (R%d in the backup): restored R%d, %v", s.Name, s.Config.Replicas, r.Replicas[s.Name], err)
		}
	}
	readsAsBefore(ctx, t, single.URL(), dir, conv, want)
}
