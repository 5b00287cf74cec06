package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/replay"
)

// demoData plays the demo into a new data directory and returns it.
func demoData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"demo", "--data", dir}, &out, &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	return dir
}

// runOK runs the CLI and fails the test on an error; it returns stdout and
// stderr.
func runOK(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("%s: %v\n%s\n%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

// runFails runs the CLI and returns its error, failing the test if there is
// none.
func runFails(t *testing.T, args ...string) error {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, &out, &out)
	if err == nil {
		t.Fatalf("%s must fail:\n%s", strings.Join(args, " "), out.String())
	}
	return err
}

// field returns the value of the "name: value" line of out.
func field(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+": "); ok {
			return v
		}
	}
	t.Fatalf("no %q line in:\n%s", name, out)
	return ""
}

func replayJSON(t *testing.T, args ...string) replay.Report {
	t.Helper()
	out, _ := runOK(t, append([]string{"replay", "--json"}, args...)...)
	var rep replay.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("replay --json: %v\n%s", err, out)
	}
	return rep
}

// The demo's history replayed offline gives the same views checksum every
// time, equal to the views the demo's service built, and the history it
// read has the audit checksum of the stream.
func TestReplayTheDemo(t *testing.T) {
	dir := demoData(t)
	first, progress := runOK(t, "replay", "--data", dir)
	second, _ := runOK(t, "replay", "--data", dir)
	sum := field(t, first, "views checksum")
	if len(sum) != 64 || field(t, second, "views checksum") != sum {
		t.Fatalf("two replays of the same data:\n%s\n%s", first, second)
	}
	events, last := field(t, first, "events"), field(t, first, "last seq")
	if events == "0" || events != last {
		t.Fatalf("the replay applied %s events up to seq %s:\n%s", events, last, first)
	}
	if want := "replayed " + events + "/" + events + " events, "; !strings.Contains(progress, want) {
		t.Errorf("progress on stderr lacks %q:\n%s", want, progress)
	}
	for _, name := range []string{"duration", "events/s"} {
		field(t, first, name)
	}
	checksum, _ := runOK(t, "audit", "checksum", "--data", dir)
	if field(t, first, "history sha256") != field(t, checksum, "sha256") {
		t.Errorf("the replay read another history than audit checksum:\n%s\n%s", first, checksum)
	}
	// The demo ends reading its own writes, so its views hold the whole log.
	if live := viewsChecksum(t, node.Layout{Dir: dir}.Views()); live.checkpoint != last || live.sum != sum {
		t.Errorf("the demo's views at seq %s have checksum %s; the replay up to seq %s: %s",
			live.checkpoint, live.sum, last, sum)
	}

	rep := replayJSON(t, "--data", dir)
	if rep.ViewsChecksum != sum || rep.Events == 0 || rep.LastSeq != rep.Events || rep.Out != "" ||
		rep.History.UntilSeq != rep.LastSeq || rep.EventsPerSecond <= 0 {
		t.Fatalf("replay --json: %+v", rep)
	}

	t.Run("until a sequence", func(t *testing.T) {
		r := replayJSON(t, "--data", dir, "--until-seq", "3")
		if r.Events != 3 || r.LastSeq != 3 || r.ViewsChecksum == sum {
			t.Fatalf("replay --until-seq 3: %+v", r)
		}
		runFails(t, "replay", "--data", dir, "--until-seq", "100000")
	})
	t.Run("until a time", func(t *testing.T) {
		if r := replayJSON(t, "--data", dir, "--until-time", "2019-01-01T00:00:00Z"); r.Events != 0 || r.Skipped != rep.Events {
			t.Fatalf("replay as of before the story: %+v", r)
		}
		if r := replayJSON(t, "--data", dir, "--until-time", "2100-01-01T00:00:00Z"); r.ViewsChecksum != sum {
			t.Fatalf("replay as of after the story: %+v", r)
		}
		if r := replayJSON(t, "--data", dir, "--until-time", "2023-12-13"); r.ViewsChecksum !=
			replayJSON(t, "--data", dir, "--until-time", "2023-12-13T23:59:59.999999999Z").ViewsChecksum {
			t.Fatalf("a date means the end of that day: %+v", r)
		}
		r := replayJSON(t, "--data", dir, "--until-time", "2023-12-01T00:00:00Z")
		if r.Events == 0 || r.Events >= rep.Events || r.Events+r.Skipped != rep.Events {
			t.Fatalf("replay as of before the December 2023 policy: %+v", r)
		}
		if err := runFails(t, "replay", "--data", dir, "--until-time", "yesterday"); !strings.Contains(err.Error(), "RFC 3339") {
			t.Fatalf("a bad --until-time: %v", err)
		}
	})
	t.Run("into --out", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "rebuilt")
		if r := replayJSON(t, "--data", dir, "--out", out); r.Out != out || r.ViewsChecksum != sum {
			t.Fatalf("replay --out: %+v", r)
		}
		if kept := viewsChecksum(t, out); kept.sum != sum || kept.checkpoint != last {
			t.Fatalf("the views kept in --out: %+v; the replay printed %s up to seq %s", kept, sum, last)
		}
		err := runFails(t, "replay", "--data", dir, "--out", out)
		if !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("replay into a non-empty --out: %v", err)
		}
	})
	t.Run("refused sources", func(t *testing.T) {
		runFails(t, "replay", "--data", dir, "--from-jsonl", filepath.Join(dir, "x.jsonl"))
		runFails(t, "replay", "--data", t.TempDir())
		runFails(t, "replay", "--from-jsonl", filepath.Join(t.TempDir(), "missing.jsonl"))
	})
}

// storeSum is a store's views checksum and checkpoint, as the report
// prints them.
type storeSum struct {
	sum        string
	checkpoint string
}

// viewsChecksum opens the Pebble views in dir and returns their checksum.
func viewsChecksum(t *testing.T, dir string) storeSum {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	s, err := projector.Open(projector.Options{Dir: dir, Logger: newLogger(&bytes.Buffer{}, 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sum, _, err := s.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	return storeSum{sum: sum, checkpoint: strconv.FormatUint(s.Checkpoint(), 10)}
}
