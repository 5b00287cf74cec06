package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

// An online rebuild (crosstalk.admin.views.rebuild) writes a second Pebble
// store beside the live one while the live one answers: in RebuildViews
// while the views are in Views, and in Views when a previous rebuild left
// the live store in RebuildViews. Pebble cannot be moved while open, so a
// rebuilt store serves from its directory until the process ends, and the
// move to the canonical place (Views) happens at the next start
// (settleViews). The marker file RebuiltMarker, which names the directory
// holding the views, written and fsynced once the rebuilt store has
// replaced the live one, is the commit point:
//
//   - no marker: Views holds the views; RebuildViews, if any, is an
//     unfinished rebuild and is discarded;
//   - a marker: the directory it names holds the views; the other is
//     removed, the named one renamed to Views, and the marker removed
//     last, each step safe to repeat after a crash.
//
// A restart therefore opens one complete store, never two mixed.

// RebuildViews is the second directory of the views, which an online
// rebuild writes into (see settleViews).
func (l Layout) RebuildViews() string { return filepath.Join(l.Dir, "views.rebuild") }

// RebuiltMarker is the file that names the directory holding the views
// after an online rebuild (see settleViews).
func (l Layout) RebuiltMarker() string { return filepath.Join(l.Dir, "views.current") }

// viewsDirs are the two directories the views may live in.
func (l Layout) viewsDirs() []string { return []string{l.Views(), l.RebuildViews()} }

// other is the directory of the views that is not dir.
func (l Layout) other(dir string) string {
	if dir == l.Views() {
		return l.RebuildViews()
	}
	return l.Views()
}

// marked is the directory RebuiltMarker names, "" without a marker.
func (l Layout) marked() (string, error) {
	b, err := os.ReadFile(l.RebuiltMarker())
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	name := strings.TrimSpace(string(b))
	for _, d := range l.viewsDirs() {
		if filepath.Base(d) == name {
			return d, nil
		}
	}
	return "", fmt.Errorf("%s names %q, which is not a directory of the views", l.RebuiltMarker(), name)
}

// settleViews finishes or discards an online rebuild a stopped node left
// (see above), so that Views holds the one read model, and says what it
// did ("" for nothing), for the log. Call it on a stopped directory only
// (CheckStopped).
func (l Layout) settleViews() (did string, err error) {
	current, err := l.marked()
	if err != nil {
		return "", err
	}
	if current == "" {
		if _, err := os.Stat(l.RebuildViews()); err == nil {
			did = "discarded an online rebuild a stop interrupted before its swap; the views are as before it (run it again if it is still wanted)"
		}
		return did, removeDir(l.Dir, l.RebuildViews())
	}
	did = "finished the swap of an online rebuild a stop interrupted: the rebuilt views are the views"
	if _, err := os.Stat(current); err == nil && current != l.Views() {
		if err := removeDir(l.Dir, l.Views()); err != nil {
			return "", err
		}
		if err := os.Rename(current, l.Views()); err != nil {
			return "", fmt.Errorf("move the rebuilt views into place: %w", err)
		}
	} else if err := removeDir(l.Dir, l.RebuildViews()); err != nil {
		return "", err
	}
	if err := syncDir(l.Dir); err != nil {
		return "", err
	}
	if err := os.Remove(l.RebuiltMarker()); err != nil {
		return "", err
	}
	return did, syncDir(l.Dir)
}

// markRebuilt writes RebuiltMarker, naming dir, durably: after it, a
// restart opens the views in dir.
func (l Layout) markRebuilt(dir string) error {
	tmp := l.RebuiltMarker() + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(filepath.Base(dir) + "\n")
	err = errors.Join(err, f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, l.RebuiltMarker())
	}
	if err != nil {
		return fmt.Errorf("mark the rebuilt views: %w", err)
	}
	return syncDir(l.Dir)
}

// removeDir removes dir and makes its removal durable in parent.
func removeDir(parent, dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// rebuilds is the node's service.Rebuilds: it rebuilds into the directory
// of the views the live store is not in, with the live store's options.
type rebuilds struct {
	n    *Node
	opts projector.Options
}

var _ service.Rebuilds = rebuilds{}

// Open opens an empty store in the directory the live store is not in,
// removing what a failed rebuild left there.
func (r rebuilds) Open() (*projector.Store, error) {
	live := r.n.liveDir()
	if current, err := r.n.layout.marked(); err != nil || (live != r.n.layout.Views() && current != live) {
		return nil, errors.Join(err, errors.New("the previous rebuild could not be committed on disk; "+
			"restart the node before rebuilding again"))
	}
	dir := r.n.layout.other(live)
	if err := removeDir(r.n.layout.Dir, dir); err != nil {
		return nil, err
	}
	o := r.opts
	o.Dir = dir
	// The rebuilt store counts in the node's metrics only once it is the
	// live one: before, its replay is progress (crosstalk_views_rebuild_*),
	// and counting it would count every event and poison a second time.
	var st *projector.Store
	if observe := o.OnApplied; observe != nil {
		o.OnApplied = func(applied, poisoned int) {
			if r.n.Store() == st {
				observe(applied, poisoned)
			}
		}
	}
	st, err := projector.Open(o)
	return st, err
}

// Commit marks the rebuilt store's directory as the views, makes it the
// store the node closes, and closes and removes the old one. Without the
// marker a restart opens the old directory, complete but for what it
// missed since, so that one is kept then.
func (r rebuilds) Commit(old, rebuilt *projector.Store) error {
	oldDir := r.n.liveDir()
	err := r.n.layout.markRebuilt(r.n.layout.other(oldDir))
	r.n.setStore(rebuilt, r.n.layout.other(oldDir)) // it serves, marked or not
	err = errors.Join(err, old.Close())
	if err == nil {
		err = removeDir(r.n.layout.Dir, oldDir)
	}
	return err
}

// Discard closes the rebuilt store and removes its directory.
func (r rebuilds) Discard(rebuilt *projector.Store) error {
	return errors.Join(rebuilt.Close(), removeDir(r.n.layout.Dir, r.n.layout.other(r.n.liveDir())))
}
