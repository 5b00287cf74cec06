package replay_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/crosstalk-dev/crosstalk/node/historytest"
	"github.com/crosstalk-dev/crosstalk/replay"
)

// ExportFile writes what Export writes, and leaves no file behind, neither
// the target nor a partial one, when the export fails.
func TestExportFile(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	dir := t.TempDir()
	path := filepath.Join(dir, "history.jsonl")
	n, err := replay.ExportFile(f.Ctx, f.Log, 0, path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || n != f.LastSeq() || !bytes.Equal(got, export(f, 0)) {
		t.Fatalf("ExportFile wrote %d events, %v; want the %d of Export", n, err, f.LastSeq())
	}
	failed := filepath.Join(dir, "failed.jsonl")
	if _, err := replay.ExportFile(f.Ctx, f.Log, f.LastSeq()+1, failed); err == nil {
		t.Fatal("an export past the end of the stream must fail")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("a failed export left files behind: %v", entries)
	}
}

// ToNewDir keeps views only in a new or empty directory it was given, and
// removes its temporary one.
func TestToNewDir(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	out := filepath.Join(t.TempDir(), "views")
	res := toNewDir(t, f, out)
	if entries, err := os.ReadDir(out); err != nil || len(entries) == 0 || res.Events != f.LastSeq() {
		t.Fatalf("the views must be kept in %s: %v, %v; %+v", out, entries, err, res)
	}
	if _, err := replay.ToNewDir(f.Ctx, src(t, f), out, nil, replay.Options{}); !errors.Is(err, replay.ErrDirNotEmpty) {
		t.Fatalf("a replay into a directory with views: %v, want ErrDirNotEmpty", err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	if again := toNewDir(t, f, ""); again.Checksum != res.Checksum {
		t.Fatalf("a replay into a temporary directory: %+v, want checksum %s", again, res.Checksum)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Fatalf("the temporary directory was left behind: %v", entries)
	}
}

func toNewDir(t *testing.T, f *historytest.Fixture, out string) replay.Result {
	t.Helper()
	res, err := replay.ToNewDir(f.Ctx, src(t, f), out, nil, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func src(t *testing.T, f *historytest.Fixture) replay.Source {
	t.Helper()
	s, err := replay.FromLog(f.Ctx, f.Log)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
