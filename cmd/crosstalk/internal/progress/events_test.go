package progress

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// A run that measured its own time states its rate over that time, not
// over how long the display watched it.
func TestFinishInStatesTheRunsOwnRate(t *testing.T) {
	var out bytes.Buffer
	p := NewRebuild(&out)
	time.Sleep(50 * time.Millisecond) // the watcher's polling, longer than the run
	p.Show(28, 28)
	p.FinishIn(true, 28*time.Millisecond)
	if got := out.String(); !strings.Contains(got, "rebuilt 28/28 events, 1000 events/s") {
		t.Fatalf("last line %q", got)
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
