// Package backup writes and restores whole backups of what crosstalk keeps
// in JetStream (docs/operations.md, "Backup and restore"): the event log
// in any layout, the refused commands, the intake's streams and outcomes,
// the conversation snapshots, the wrapped keys and the durable feeds, each
// a JetStream snapshot (jsm.go, as the nats CLI takes them), beside a
// manifest with each stream's configuration and state and the log's audit
// checksum, which a restore must find again. It connects to nothing
// itself: the caller gives it a connection.
package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/jsm.go"
	"github.com/nats-io/jsm.go/api"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/internal/optcheck"
	"github.com/crosstalk-dev/crosstalk/version"
)

// DefaultTimeout is the default of Options.Timeout and
// RestoreOptions.Timeout.
const DefaultTimeout = 10 * time.Second

// ErrExists reports a backup directory that is not empty: a backup never
// writes over another, finished or not.
var ErrExists = errors.New("backup: the directory is not empty")

// ErrNoLog reports a server without crosstalk's log: nothing to back up.
var ErrNoLog = errors.New("backup: no crosstalk log on this server")

// Options tune a backup.
type Options struct {
	// Dir is the directory the backup is written into, created if
	// missing; it must be empty (ErrExists). Required.
	Dir string
	// SigningKey is the public half of the node's signing key, written
	// beside the snapshots (PublicKeyFile) and into the manifest for
	// auditors. Default nil: none.
	SigningKey *PublicKey
	// Progress, if set, is told how many bytes of the streams are done of
	// the total, as each snapshot arrives. Calls never overlap, and none
	// comes after Backup returns.
	Progress func(done, total uint64)
	// Timeout bounds each JetStream API request. Default DefaultTimeout.
	Timeout time.Duration
	// Logger gets what is left out, and why. Default slog.Default().
	Logger *slog.Logger
}

// Validate reports what is wrong with o.
func (o Options) Validate() error {
	v := optcheck.New("backup.Options")
	if o.Dir == "" {
		v.Add("Dir", "is required")
	}
	optcheck.NotNegative(v, "Timeout", o.Timeout)
	return v.Err()
}

func setDefaults(timeout *time.Duration, logger **slog.Logger) {
	if *timeout == 0 {
		*timeout = DefaultTimeout
	}
	if *logger == nil {
		*logger = slog.Default()
	}
}

// Backup snapshots every stream crosstalk owns on nc's server into
// o.Dir (see Manifest), and returns the manifest it wrote last: a
// directory without one holds no finished backup. The log is summed up to
// each of its streams' last sequence in its snapshot, so that events
// appended meanwhile change nothing.
func Backup(ctx context.Context, nc *nats.Conn, o Options) (Manifest, error) {
	if err := o.Validate(); err != nil {
		return Manifest{}, err
	}
	setDefaults(&o.Timeout, &o.Logger)
	if err := checkEmpty(o.Dir); err != nil {
		return Manifest{}, err
	}
	mgr, log, err := open(ctx, nc, o.Timeout, o.Logger)
	if err != nil {
		return Manifest{}, err
	}
	m, err := plan(nc, mgr, log, o)
	if err == nil {
		err = os.MkdirAll(o.Dir, 0o700)
	}
	if err == nil {
		err = snapshotAll(ctx, mgr, o, m.Streams)
	}
	if err == nil {
		m.Checksum, err = logSum(ctx, log, logUntil(m))
	}
	if err == nil && m.SigningKey != nil {
		err = os.WriteFile(filepath.Join(o.Dir, PublicKeyFile), []byte(m.SigningKey.PEM), 0o644)
	}
	if err == nil {
		err = writeManifest(o.Dir, m)
	}
	return m, err
}

// checkEmpty refuses a directory that exists and holds anything: a
// backup that did not finish (no manifest) is removed by hand, not mixed
// with a new one.
func checkEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%w: %s (a backup writes into an empty or new directory)", ErrExists, dir)
	}
	return nil
}

// open makes the stream manager and opens the existing log, without
// creating or changing any stream.
func open(ctx context.Context, nc *nats.Conn, timeout time.Duration, logger *slog.Logger) (*jsm.Manager, *eventlog.Log, error) {
	mgr, err := jsm.New(nc, jsm.WithTimeout(timeout))
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, nil, err
	}
	log, err := eventlog.OpenExisting(ctx, js, eventlog.Options{Logger: logger})
	if errors.Is(err, eventlog.ErrNoStream) {
		return nil, nil, fmt.Errorf("%w (%w)", ErrNoLog, err)
	}
	return mgr, log, err
}

// plan is the manifest before the snapshots: which streams, which left out.
func plan(nc *nats.Conn, mgr *jsm.Manager, log *eventlog.Log, o Options) (Manifest, error) {
	names, err := mgr.StreamNames(nil)
	if err != nil {
		return Manifest{}, fmt.Errorf("list streams: %w", err)
	}
	streams, left := selection(names, log)
	for _, l := range left {
		o.Logger.Info("backup: left out", "stream", l.Name, "why", l.Why)
	}
	return Manifest{Format: manifestFormat, Crosstalk: version.Read(), Time: time.Now().UTC(),
		Server: nc.ConnectedServerName(), Cluster: nc.ConnectedClusterName(), Streams: streams, LeftOut: left,
		Log: log.StreamNames(), SigningKey: o.SigningKey, MasterKey: masterKeyNote}, nil
}

// logUntil is each log stream's last sequence in its snapshot, in the
// log's order: what the manifest's checksum covers.
func logUntil(m Manifest) []uint64 {
	until := make([]uint64, 0, len(m.Log))
	for _, name := range m.Log {
		for _, s := range m.Streams {
			if s.Name == name {
				until = append(until, s.State.LastSeq)
			}
		}
	}
	return until
}

// snapshotAll snapshots each of streams into o.Dir, filling in the
// configuration and state each snapshot was taken at.
func snapshotAll(ctx context.Context, mgr *jsm.Manager, o Options, streams []Stream) error {
	loaded := make([]*jsm.Stream, len(streams))
	sizes := make([]uint64, len(streams))
	var total uint64
	for i, s := range streams {
		st, err := mgr.LoadStream(s.Name)
		if err == nil {
			var state api.StreamState
			state, err = st.LatestState()
			sizes[i] = state.Bytes
		}
		if err != nil {
			return fmt.Errorf("stream %s: %w", s.Name, err)
		}
		loaded[i] = st
		total += sizes[i]
	}
	t := newTally(total, o.Progress)
	defer t.close()
	for i := range streams {
		if err := snapshot(ctx, loaded[i], sizes[i], o.Dir, &streams[i], t); err != nil {
			return fmt.Errorf("snapshot of %s: %w", streams[i].Name, err)
		}
	}
	t.finish()
	return nil
}

// snapshot writes the snapshot of st into its directory under dir and
// reads back the configuration and state it was taken at.
func snapshot(ctx context.Context, st *jsm.Stream, expected uint64, dir string, s *Stream, t *tally) error {
	base := t.start(expected)
	opts := []jsm.SnapshotOption{jsm.SnapshotNotify(func(p jsm.SnapshotProgress) {
		t.show(base + min(p.UncompressedBytesReceived(), expected))
	})}
	if s.Consumers {
		opts = append(opts, jsm.SnapshotConsumers())
	}
	if _, err := st.SnapshotToDirectory(ctx, streamDir(dir, s.Name), opts...); err != nil {
		return err
	}
	t.show(base + expected)
	meta, err := readSnapshotMeta(streamDir(dir, s.Name))
	s.Config, s.State = meta.Config, meta.State
	return err
}

// snapshotMeta is what jsm.go writes beside a snapshot (backup.json).
type snapshotMeta struct {
	Config api.StreamConfig `json:"config"`
	State  api.StreamState  `json:"state"`
}

func readSnapshotMeta(dir string) (snapshotMeta, error) {
	var meta snapshotMeta
	b, err := os.ReadFile(filepath.Join(dir, jsm.SnapshotMetaFile))
	if err == nil {
		err = json.Unmarshal(b, &meta)
	}
	return meta, err
}
