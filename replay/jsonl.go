package replay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

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
