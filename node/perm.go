package node

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// privateBits are the permission bits of a group and of others: none of a
// node's files may have them. The data directory holds message text (the
// views, the JetStream store) and the signing key.
const privateBits fs.FileMode = 0o077

// tightenDir makes dir and everything under it owner-only: a directory or
// file an older crosstalk, or a wider umask, made readable by others loses
// its group and other bits. It reports how many it changed.
func tightenDir(dir string) (changed int, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&privateBits == 0 {
			return nil
		}
		changed++
		return os.Chmod(path, info.Mode().Perm()&^privateBits)
	})
	return changed, err
}

// privateDataDir creates dir owner-only, makes every file crosstalk and the
// embedded nats-server create from now on owner-only (RestrictUmask), and
// tightens what an older version left open, saying so.
func privateDataDir(dir string, logger *slog.Logger) error {
	RestrictUmask()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	changed, err := tightenDir(dir)
	if changed > 0 {
		logger.Warn("data directory: made files and directories readable by their owner only",
			slog.String("dir", dir), slog.Int("changed", changed))
	}
	return err
}
