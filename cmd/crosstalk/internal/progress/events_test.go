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
