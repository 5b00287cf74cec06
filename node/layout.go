// Package node is crosstalk's composition root: it owns the layout of a
// node's data directory, starts a node (embedded or external NATS, the
// streams, the Pebble views and the service) and opens a stopped node's
// data for the offline tools. Everything that assembles these parts goes
// through here, so the wiring and the directory names exist once.
package node

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// DefaultDir is the data directory the commands use unless told otherwise.
const DefaultDir = "./crosstalk-data"

// ErrInUse is returned when a data directory belongs to a running node: its
// views are locked by the node's Pebble store.
var ErrInUse = errors.New("data directory in use by a running node")

// ErrOtherAccount is returned when the history in a data directory was
// written under another NATS account than the one a start would serve:
// nats-server keeps each account's streams apart, so the start would begin
// an empty history beside the real one.
var ErrOtherAccount = errors.New("history kept under another NATS account")

// ErrNoStream is returned when there is no crosstalk history to open: no
// JetStream directory in a data directory, or no stream CROSSTALK.
var ErrNoStream = errors.New("no crosstalk stream")

// Layout is where a node keeps its files under its data directory Dir.
type Layout struct {
	// Dir is the data directory.
	Dir string
}

// Views is the directory of the Pebble read model.
func (l Layout) Views() string { return filepath.Join(l.Dir, "views") }

// JetStream is the store directory of the embedded nats-server.
func (l Layout) JetStream() string { return filepath.Join(l.Dir, "jetstream") }

// SigningKey is the file of the ed25519 key the node signs its events
// with, unless Options.SigningKey names another: PEM (PKCS #8), mode 0600,
// created on the node's first start.
func (l Layout) SigningKey() string { return filepath.Join(l.Dir, "signing.key") }

// MasterKey is the file of the master key that wraps the keys sealing
// message content (keyring), unless Options.MasterKey names another: 64
// hex digits, mode 0600, created on the node's first start.
func (l Layout) MasterKey() string { return filepath.Join(l.Dir, "master.key") }

// CheckStopped returns an error wrapping ErrInUse when a node runs on the
// directory. It takes Pebble's lock on the views alone and releases it: a
// pebble.Open that fails on a held lock leaves its disk-health goroutine
// running, and a second nats-server must never open the JetStream files of
// a running one. Both directories of the views are checked, since a node
// that rebuilt its views online serves them from RebuildViews, and the data
// directory itself when a node without views has locked it (lockDir). A
// directory without views or that lock is not in use.
func (l Layout) CheckStopped() error {
	for _, views := range l.lockedDirs() {
		if _, err := os.Stat(views); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		lock, err := pebble.LockDirectory(views, vfs.Default)
		if err != nil {
			return fmt.Errorf("%s: %w (%w)", l.Dir, ErrInUse, err)
		}
		if err := lock.Close(); err != nil {
			return err
		}
	}
	return nil
}

// lockedDirs are the directories a running node holds Pebble's lock on:
// its views, in either place, and the data directory itself once a node
// without views has locked it (its file LOCK exists).
func (l Layout) lockedDirs() []string {
	dirs := l.viewsDirs()
	if _, err := os.Stat(filepath.Join(l.Dir, "LOCK")); err == nil {
		dirs = append(dirs, l.Dir)
	}
	return dirs
}

// lockDir takes Pebble's lock on the data directory itself, for a node
// that opens no views (whose store would hold the lock otherwise), until
// the returned closer is closed.
func (l Layout) lockDir() (io.Closer, error) {
	lock, err := pebble.LockDirectory(l.Dir, vfs.Default)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (%w)", l.Dir, ErrInUse, err)
	}
	return lock, nil
}

// streamsAccount is the NATS account the node's streams were kept in: ""
// (an open server's global account, development mode) when the stream
// CROSSTALK (or CROSSTALK_P0 of a partitioned log) is there or nowhere,
// natsconf.ServiceAccount when a node under an identity configuration
// wrote it. The server keeps each account's streams in a directory of that
// account's name.
func (l Layout) streamsAccount() string {
	stream := func(account, name string) bool {
		_, err := os.Stat(filepath.Join(l.JetStream(), "jetstream", account, "streams", name))
		return err == nil
	}
	for _, name := range []string{events.StreamName, eventlog.PartitionStreamName(0)} {
		if stream(server.DEFAULT_GLOBAL_ACCOUNT, name) {
			return ""
		}
		if stream(natsconf.ServiceAccount, name) {
			return natsconf.ServiceAccount
		}
	}
	return ""
}

// accountDir is the directory name of streamsAccount under the JetStream
// files.
func (l Layout) accountDir() string {
	if a := l.streamsAccount(); a != "" {
		return a
	}
	return server.DEFAULT_GLOBAL_ACCOUNT
}

// checkAccount returns an error wrapping ErrOtherAccount when the stream
// CROSSTALK exists only under the account a start with (configured) or
// without (!configured) an identity configuration would not use.
func (l Layout) checkAccount(configured bool) error {
	stream := func(account string) bool {
		_, err := os.Stat(filepath.Join(l.JetStream(), "jetstream", account, "streams", events.StreamName))
		return err == nil
	}
	open, service := stream(server.DEFAULT_GLOBAL_ACCOUNT), stream(natsconf.ServiceAccount)
	switch {
	case configured && open && !service:
		return fmt.Errorf("%w: %s was served without an identity configuration (account %s); "+
			"serving it under one would start an empty history in account %s", ErrOtherAccount,
			l.Dir, server.DEFAULT_GLOBAL_ACCOUNT, natsconf.ServiceAccount)
	case !configured && service && !open:
		return fmt.Errorf("%w: %s was served under an identity configuration (account %s); "+
			"serve it with that --nats-config, or development mode would start an empty history beside it",
			ErrOtherAccount, l.Dir, natsconf.ServiceAccount)
	}
	return nil
}

// checkHistory returns an error wrapping ErrNoStream when the directory has
// no JetStream files, so that opening it never creates an empty history.
func (l Layout) checkHistory() error {
	if _, err := os.Stat(l.JetStream()); err != nil {
		return fmt.Errorf("%w in %s: %w", ErrNoStream, l.Dir, err)
	}
	return nil
}
