package node

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/crosstalk-dev/crosstalk/events"
)

// ReadSigningKey reads the signing key file at path (PEM "PRIVATE KEY",
// ed25519) and returns its signer.
func ReadSigningKey(path string) (*events.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	key, err := events.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return events.NewSigner(key), nil
}

// signer returns the signer of a starting node: the key file o.SigningKey,
// which must exist, or the layout's, created if missing. A missing file
// that was named is an error rather than a new key: a key that silently
// changed would sign every later event under a key the auditors were not
// given.
func (n *Node) signer(o Options) (*events.Signer, error) {
	path, create := o.SigningKey, false
	if path == "" {
		path, create = n.layout.SigningKey(), true
	}
	if create {
		made, err := createSigningKey(path, o.Logger)
		if err != nil {
			return nil, err
		}
		if made {
			n.made = append(n.made, path)
		}
	}
	s, err := ReadSigningKey(path)
	if err != nil {
		return nil, err
	}
	warnIfReadable(path, o.Logger)
	o.Logger.Info("signing events", slog.String("key_id", s.KeyID()), slog.String("key_file", path))
	return s, nil
}

// createSigningKey writes a new ed25519 key to path unless the file
// exists, and reports whether it did. O_EXCL keeps two starts from each
// writing a key of their own.
func createSigningKey(path string, logger *slog.Logger) (bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("signing key: %w", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return false, errors.Join(err, f.Close(), os.Remove(path))
	}
	pemKey, err := events.MarshalPrivateKey(key)
	if err == nil {
		_, err = f.Write(pemKey)
	}
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return false, fmt.Errorf("signing key %s: %w", path, errors.Join(err, os.Remove(path)))
	}
	logger.Info("created a signing key; give auditors its public key ('crosstalk audit public-key')",
		slog.String("key_file", path))
	return true, nil
}

// warnIfReadable logs a warning when others than the owner may read the
// key file: whoever reads it can sign events as the service.
func warnIfReadable(path string, logger *slog.Logger) {
	info, err := os.Stat(path)
	if err == nil && info.Mode().Perm()&0o077 != 0 {
		logger.Warn("the signing key file is readable by others than its owner; chmod 600 it",
			slog.String("key_file", path), slog.String("mode", info.Mode().Perm().String()))
	}
}
