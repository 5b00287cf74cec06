package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrBadNodeID reports a node id that is not [a-z0-9][a-z0-9-]{0,31}.
var ErrBadNodeID = errors.New("bad node id")

// nodeIDForm is what a node id must match: one NATS subject token, short
// enough for a header and a log line.
var nodeIDForm = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// CheckNodeID returns an error wrapping ErrBadNodeID unless id is a valid
// node id.
func CheckNodeID(id string) error {
	if !nodeIDForm.MatchString(id) {
		return fmt.Errorf("%w %q: a node id is 1 to 32 of a-z, 0-9 and '-', not starting with '-'", ErrBadNodeID, id)
	}
	return nil
}

// NodeID is the file that keeps the node's id, generated on its first
// start unless Options.NodeID gives one.
func (l Layout) NodeID() string { return filepath.Join(l.Dir, "node-id") }

// resolveNodeID is the node's id: given (checked, and kept in the layout's
// file, so that later starts without it keep the name), else the one kept,
// else a new one ("n-" and 8 random hex digits), kept.
func (l Layout) resolveNodeID(given string) (string, error) {
	if given != "" {
		if err := CheckNodeID(given); err != nil {
			return "", err
		}
		return given, l.keepNodeID(given)
	}
	data, err := os.ReadFile(l.NodeID())
	if err == nil {
		id := strings.TrimSpace(string(data))
		if err := CheckNodeID(id); err != nil {
			return "", fmt.Errorf("%s: %w; fix or delete the file, or give --node-id", l.NodeID(), err)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	id, err := newNodeID()
	if err != nil {
		return "", err
	}
	return id, l.keepNodeID(id)
}

// keepNodeID writes id to the layout's file unless it holds id already.
func (l Layout) keepNodeID(id string) error {
	if data, err := os.ReadFile(l.NodeID()); err == nil && strings.TrimSpace(string(data)) == id {
		return nil
	}
	return os.WriteFile(l.NodeID(), []byte(id+"\n"), 0o600)
}

func newNodeID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "n-" + hex.EncodeToString(b[:]), nil
}
