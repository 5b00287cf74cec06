package keyring

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrMasterKey reports a master key file that cannot be used.
var ErrMasterKey = errors.New("keyring: bad master key file")

// Master is the key that wraps every data key. It lives in a file of its
// own (mode 0600, beside signing.key), never in JetStream: a backup of the
// streams holds wrapped keys only.
type Master struct {
	key [32]byte
	// ID names the master key in every key it wraps (8 hex digits of the
	// SHA-256 of the key), so that a rotation knows what to rewrap.
	ID string
	// previous are the keys of the file's later lines: a rotation in
	// progress (Rotate) still opens what they wrapped.
	previous []*Master
}

// CreateMaster writes a new random master key to path, which must not
// exist, readable by its owner only.
func CreateMaster(path string) error {
	var k [32]byte
	_, _ = rand.Read(k[:]) // crypto/rand.Read never fails
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, hex.EncodeToString(k[:]))
	return errors.Join(err, f.Close())
}

// ReadMaster reads the master key at path: a line of 64 hex digits, the
// key that wraps; a rotation in progress adds the previous keys on the
// lines after it, which only open. A file others may read is refused.
func ReadMaster(path string) (*Master, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is readable by others (mode %v); chmod 600 it", ErrMasterKey, path, info.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Fields(string(b))
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: %s must hold 64 hex digits", ErrMasterKey, path)
	}
	keys := make([]*Master, len(lines))
	for i, l := range lines {
		if keys[i], err = parseMaster(l); err != nil {
			return nil, fmt.Errorf("%w: %s line %d must hold 64 hex digits", ErrMasterKey, path, i+1)
		}
	}
	keys[0].previous = keys[1:]
	return keys[0], nil
}

// parseMaster reads one key: 64 hex digits.
func parseMaster(line string) (*Master, error) {
	raw, err := hex.DecodeString(line)
	if err != nil || len(raw) != 32 {
		return nil, ErrMasterKey
	}
	m := &Master{}
	copy(m.key[:], raw)
	sum := sha256.Sum256(m.key[:])
	m.ID = hex.EncodeToString(sum[:4])
	return m, nil
}

// opener is the key, this one or a previous one, whose id is id.
func (m *Master) opener(id string) *Master {
	if id == m.ID {
		return m
	}
	for _, p := range m.previous {
		if p.ID == id {
			return p
		}
	}
	return nil
}
