package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/jsm.go"
	"github.com/nats-io/jsm.go/api"
	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/internal/optcheck"
)

// ErrStreamsExist reports a restore into a server that has some of
// crosstalk's streams already: a restore never merges two histories.
var ErrStreamsExist = errors.New("restore: the server has crosstalk's streams already")

// ErrReplicas reports more replicas than the server can keep: a server
// that is not in a cluster keeps one.
var ErrReplicas = errors.New("restore: more replicas than the server can keep")

// ErrChecksumMismatch reports a restored log whose audit checksum differs
// from the backup's manifest.
var ErrChecksumMismatch = errors.New("restore: the restored log's checksum differs from the backup's")

// RestoreOptions tune a restore.
type RestoreOptions struct {
	// Dir is the directory Backup wrote. Required.
	Dir string
	// Replicas is the number of replicas every restored stream gets.
	// Default 0: 1 on a server that is not in a cluster, else each
	// stream's own in the backup.
	Replicas int
	// Progress, if set, is told how many bytes of the snapshots were sent
	// of the total. Calls never overlap, and none comes after Restore
	// returns.
	Progress func(done, total uint64)
	// Timeout bounds each JetStream API request. Default DefaultTimeout.
	Timeout time.Duration
	// Logger: default slog.Default().
	Logger *slog.Logger
}

// Validate reports what is wrong with o.
func (o RestoreOptions) Validate() error {
	v := optcheck.New("backup.RestoreOptions")
	if o.Dir == "" {
		v.Add("Dir", "is required")
	}
	optcheck.NotNegative(v, "Replicas", o.Replicas)
	optcheck.NotNegative(v, "Timeout", o.Timeout)
	return v.Err()
}

// Restored is what a restore did.
type Restored struct {
	// Manifest is the backup's.
	Manifest Manifest
	// Replicas is each restored stream's number of replicas, by name.
	Replicas map[string]int
	// Checksum is the restored log's audit checksum, equal to
	// Manifest.Checksum.
	Checksum audit.LogSum
}

// Restore creates every stream of the backup in o.Dir on nc's server from
// its snapshot, with o.Replicas, then checks that the log's audit checksum
// is the manifest's (ErrChecksumMismatch). It refuses a server that holds
// any of crosstalk's streams (ErrStreamsExist), before it creates any.
func Restore(ctx context.Context, nc *nats.Conn, o RestoreOptions) (Restored, error) {
	if err := o.Validate(); err != nil {
		return Restored{}, err
	}
	setDefaults(&o.Timeout, &o.Logger)
	m, err := ReadManifest(o.Dir)
	if err != nil {
		return Restored{}, err
	}
	r := Restored{Manifest: m, Replicas: map[string]int{}}
	mgr, err := jsm.New(nc, jsm.WithTimeout(o.Timeout))
	if err == nil {
		err = checkTarget(nc, mgr, m, o.Replicas)
	}
	if err == nil {
		err = restoreAll(ctx, nc, mgr, o, &r)
	}
	if err == nil {
		r.Checksum, err = checkRestored(ctx, nc, m, o)
	}
	return r, err
}

// checkTarget refuses a server that has any of crosstalk's streams, or
// that cannot keep replicas of each.
func checkTarget(nc *nats.Conn, mgr *jsm.Manager, m Manifest, replicas int) error {
	if nc.ConnectedClusterName() == "" && replicas > 1 {
		return fmt.Errorf("%w: --replicas %d on a server that is not in a cluster", ErrReplicas, replicas)
	}
	names, err := mgr.StreamNames(nil)
	if err != nil {
		return fmt.Errorf("list streams: %w", err)
	}
	if c := conflicts(names, m); len(c) > 0 {
		return fmt.Errorf("%w: %s (restore into a server without them, before any serve starts on it)",
			ErrStreamsExist, strings.Join(c, ", "))
	}
	return nil
}

// restoreAll restores each stream of r.Manifest in its order.
func restoreAll(ctx context.Context, nc *nats.Conn, mgr *jsm.Manager, o RestoreOptions, r *Restored) error {
	sizes := make([]uint64, len(r.Manifest.Streams))
	var total uint64
	for i, s := range r.Manifest.Streams {
		path, err := jsm.SnapshotDataPath(streamDir(o.Dir, s.Name))
		var fi os.FileInfo
		if err == nil {
			fi, err = os.Stat(path)
		}
		if err != nil {
			return fmt.Errorf("%w: the snapshot of %s: %w", ErrManifest, s.Name, err)
		}
		sizes[i] = uint64(fi.Size())
		total += sizes[i]
	}
	t := newTally(total, o.Progress)
	defer t.close()
	for i, s := range r.Manifest.Streams {
		cfg := restoreConfig(s.Config, o.Replicas, nc.ConnectedClusterName())
		if err := restoreStream(ctx, mgr, o.Dir, cfg, t.start(sizes[i]), t); err != nil {
			return fmt.Errorf("restore %s: %w", s.Name, err)
		}
		r.Replicas[s.Name] = cfg.Replicas
		o.Logger.Info("restore: stream restored", "stream", s.Name, "replicas", cfg.Replicas)
	}
	t.finish()
	return nil
}

// restoreConfig is the configuration a stream is restored with: the
// backup's, with replicas (0: 1 outside a cluster, else the backup's), and
// without a placement in a cluster other than the server's.
func restoreConfig(cfg api.StreamConfig, replicas int, cluster string) api.StreamConfig {
	switch {
	case replicas > 0:
		cfg.Replicas = replicas
	case cluster == "":
		cfg.Replicas = 1
	}
	if p := cfg.Placement; p != nil && p.Cluster != "" && p.Cluster != cluster {
		q := *p
		q.Cluster = ""
		cfg.Placement = &q
	}
	return cfg
}

// restoreStream sends one stream's snapshot. The context ends with it:
// jsm.go's progress goroutine lives as long as the context it is given.
func restoreStream(ctx context.Context, mgr *jsm.Manager, dir string, cfg api.StreamConfig, base uint64, t *tally) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, _, err := mgr.RestoreSnapshotFromDirectory(ctx, cfg.Name, streamDir(dir, cfg.Name),
		jsm.RestoreConfiguration(cfg), jsm.RestoreNotify(func(p jsm.RestoreProgress) { t.show(base + p.BytesSent()) }))
	return err
}

// checkRestored sums the restored log and compares it with the manifest.
func checkRestored(ctx context.Context, nc *nats.Conn, m Manifest, o RestoreOptions) (audit.LogSum, error) {
	_, log, err := open(ctx, nc, o.Timeout, o.Logger)
	if err != nil {
		return audit.LogSum{}, err
	}
	sum, err := audit.ChecksumStreams(ctx, log, nil)
	if err != nil {
		return sum, err
	}
	if sum.Hex != m.Checksum.Hex || sum.Events != m.Checksum.Events {
		return sum, fmt.Errorf("%w: sha256 %s over %d events, the backup's %s over %d",
			ErrChecksumMismatch, sum.Hex, sum.Events, m.Checksum.Hex, m.Checksum.Events)
	}
	return sum, nil
}
