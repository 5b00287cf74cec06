package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/crosstalk-dev/crosstalk/audit"
)

// ExportFile writes the export of log up to untilSeq (see Export) to a
// temporary file beside path and renames it to path once it is complete and
// synced, so that path never holds a partial export. It returns how many
// messages it wrote.
func ExportFile(ctx context.Context, log audit.Log, untilSeq uint64, path string) (uint64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return 0, fmt.Errorf("export to %s: %w", path, err)
	}
	n, err := Export(ctx, log, untilSeq, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return 0, err
	}
	return n, nil
}

// OpenJSONL opens the export in the file at path as a Source, its lines
// counted beforehand so that progress reports know the total. The caller
// closes the file with the returned function.
func OpenJSONL(path string) (*JSONL, func() error, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	lines, err := countLines(file)
	if err == nil {
		_, err = file.Seek(0, io.SeekStart)
	}
	if err != nil {
		_ = file.Close()
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	src := ReadJSONL(file)
	if src.Streams() > 1 {
		lines-- // the header line is no message
	}
	src.SetTotal(lines)
	return src, file.Close, nil
}

// countLines counts the lines of r, a last one without "\n" included.
func countLines(r io.Reader) (uint64, error) {
	buf := make([]byte, 1<<20)
	var n uint64
	last := byte('\n')
	for {
		k, err := r.Read(buf)
		if k > 0 {
			n += uint64(bytes.Count(buf[:k], []byte{'\n'}))
			last = buf[k-1]
		}
		if errors.Is(err, io.EOF) {
			if last != '\n' {
				n++
			}
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}
