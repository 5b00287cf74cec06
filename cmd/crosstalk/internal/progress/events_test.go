package progress

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) || IsTerminal(&bytes.Buffer{}) {
		t.Error("a regular file and a buffer are not terminals")
	}
}

// Off a terminal, Bytes writes its last line at the end of a run that
// succeeded, in units people read, and none after one that failed.
func TestBytesLines(t *testing.T) {
	var out bytes.Buffer
	p := NewBytes(&out, "backup", "backed up")
	p.Show(3<<20, 3<<20)
	p.Finish(true)
	if got := out.String(); got != "backed up 3.0 MiB of 3.0 MiB\n" {
		t.Errorf("got %q", got)
	}
	out.Reset()
	p = NewBytes(&out, "restore", "restored")
	p.Show(512, 2048)
	p.Finish(false)
	if out.Len() != 0 {
		t.Errorf("a failed run wrote %q", out.String())
	}
}
