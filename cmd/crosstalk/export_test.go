package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// An export of the demo's history, replayed, builds the same views as a
// replay of the stream itself; the file and stdout carry the same lines.
func TestExportThenReplay(t *testing.T) {
	dir := demoData(t)
	file := filepath.Join(t.TempDir(), "history.jsonl")
	_, summary := runOK(t, "audit", "export", "--data", dir, "--out", file)
	fromStream, _ := runOK(t, "replay", "--data", dir)
	fromFile, _ := runOK(t, "replay", "--from-jsonl", file)
	for _, name := range []string{"views checksum", "history sha256", "events", "last seq"} {
		if a, b := field(t, fromStream, name), field(t, fromFile, name); a != b {
			t.Errorf("%s: %s replaying the stream, %s replaying the export", name, a, b)
		}
	}
	events := field(t, fromStream, "events")
	if want := "exported " + events + " events (seq 1.." + events + ") to " + file; !strings.Contains(summary, want) {
		t.Errorf("export summary lacks %q:\n%s", want, summary)
	}

	written, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	stdout, _ := runOK(t, "audit", "export", "--data", dir)
	if stdout != string(written) {
		t.Fatal("export to stdout and to --out differ")
	}
	if lines := strings.Count(stdout, "\n"); events != strconv.Itoa(lines) ||
		!strings.HasPrefix(stdout, `{"seq":1,"subject":"crosstalk.events.`) {
		t.Fatalf("the export has %d lines for %s events:\n%.300s", lines, events, stdout)
	}

	t.Run("until a sequence", func(t *testing.T) {
		out, _ := runOK(t, "audit", "export", "--data", dir, "--until-seq", "3")
		if out != strings.Join(strings.SplitAfter(stdout, "\n")[:3], "") {
			t.Fatalf("export --until-seq 3:\n%s", out)
		}
		runFails(t, "audit", "export", "--data", dir, "--until-seq", "100000")
	})
	t.Run("a tampered export is refused", func(t *testing.T) {
		lines := strings.SplitAfter(stdout, "\n")
		lines[1], lines[2] = lines[2], lines[1]
		bad := filepath.Join(t.TempDir(), "swapped.jsonl")
		if err := os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := runFails(t, "replay", "--from-jsonl", bad); !strings.Contains(err.Error(), "line 3") {
			t.Fatalf("replay of an export with two lines swapped: %v", err)
		}
	})
	t.Run("an export does not overwrite --out until complete", func(t *testing.T) {
		runFails(t, "audit", "export", "--data", dir, "--until-seq", "100000", "--out", file)
		again, err := os.ReadFile(file)
		if err != nil || !bytes.Equal(again, written) {
			t.Fatalf("a failed export changed %s: %v", file, err)
		}
		entries, _ := os.ReadDir(filepath.Dir(file))
		if len(entries) != 1 {
			t.Fatalf("a failed export left files behind: %v", entries)
		}
	})
}
