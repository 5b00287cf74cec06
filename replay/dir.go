package replay

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
)

// ErrDirNotEmpty reports a directory to build views in that already holds
// files.
var ErrDirNotEmpty = errors.New("directory is not empty")

// ToNewDir replays src into new views in out (see ToDir). It creates out if
// missing and refuses it with ErrDirNotEmpty unless it is empty, so that a
// replay never mixes its views with others. With out "", it builds the
// views in a temporary directory and removes it afterwards, keeping only
// the result. A failed replay removes what it built.
func ToNewDir(ctx context.Context, src Source, out string, logger *slog.Logger, opts Options) (Result, error) {
	dir, err := newDir(out)
	if err != nil {
		return Result{}, err
	}
	res, err := ToDir(ctx, src, dir, logger, opts)
	if err != nil || out == "" {
		_ = os.RemoveAll(dir)
	}
	return res, err
}

// newDir returns the directory to build views in: out, created if missing
// and refused unless empty, or a new temporary directory.
func newDir(out string) (string, error) {
	if out == "" {
		return os.MkdirTemp("", "crosstalk-replay-")
	}
	entries, err := os.ReadDir(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return out, os.MkdirAll(out, 0o700) // it holds message text
	case err != nil:
		return "", err
	case len(entries) > 0:
		return "", fmt.Errorf("%s: %w: replay builds views only in a new or empty directory, "+
			"so that it never mixes them with others; give another directory", out, ErrDirNotEmpty)
	}
	return out, nil
}
