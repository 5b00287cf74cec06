package guides

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunDocumentCarriesStateAcrossBlocksAndChecksOutput(t *testing.T) {
	src := "<!-- guide: run -->\n```sh\nexport GREETING=hello\ncd sub 2>/dev/null || { mkdir sub; cd sub; }\n```\n" +
		"<!-- guide: run -->\n```sh\necho \"$GREETING from $(basename \"$PWD\")\"\ncat ../policy.json\n```\n" +
		"<!-- guide: output -->\n```\nhello from sub\n{}\n```\n" +
		"<!-- guide: fails -->\n```sh\ntest -e nowhere\n```\n" +
		"<!-- guide: not run: shown only -->\n```sh\nexit 3\n```\n"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "src.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{Dir: dir, Copy: map[string]string{"policy.json": filepath.Join(dir, "src.json")}}
	if err := RunDocument(context.Background(), "ok.md", []byte(src), opts); err != nil {
		t.Fatal(err)
	}
}

func TestRunDocumentReportsTheFailingBlockWithItsLineAndOutput(t *testing.T) {
	src := "# Guide\n\n<!-- guide: run -->\n```sh\necho first\n```\n\nThen:\n\n<!-- guide: run -->\n```sh\necho before the failure\nfalse\necho never printed\n```\n"
	err := RunDocument(context.Background(), "broken.md", []byte(src), Options{Dir: t.TempDir()})
	if !errors.Is(err, ErrStepFailed) {
		t.Fatalf("RunDocument = %v, want ErrStepFailed", err)
	}
	msg := err.Error()
	_, printed, _ := strings.Cut(msg, "--- what it printed:")
	if !strings.HasPrefix(msg, "broken.md:11:") || strings.TrimSpace(printed) != "before the failure" {
		t.Fatalf("the report does not name broken.md:11 and its output:\n%s", msg)
	}
}

func TestRunDocumentReportsAnUnmarkedBlock(t *testing.T) {
	src := "<!-- guide: run -->\n```sh\ntrue\n```\n```sh\ntrue\n```\n"
	err := RunDocument(context.Background(), "unmarked.md", []byte(src), Options{Dir: t.TempDir()})
	if !errors.Is(err, ErrUnmarked) || !strings.Contains(err.Error(), "unmarked.md:5:") {
		t.Fatalf("RunDocument = %v, want ErrUnmarked at unmarked.md:5", err)
	}
}

func TestRunDocumentReportsOutputThatDiffers(t *testing.T) {
	src := "<!-- guide: run -->\n```sh\necho status: open\n```\n<!-- guide: output -->\n```\nstatus: closed\n```\n"
	err := RunDocument(context.Background(), "out.md", []byte(src), Options{Dir: t.TempDir()})
	if !errors.Is(err, ErrOutputDiffers) || !strings.HasPrefix(err.Error(), "out.md:6:") {
		t.Fatalf("RunDocument = %v, want ErrOutputDiffers at out.md:6", err)
	}
}

func TestRunDocumentFailsAFailsBlockThatSucceeds(t *testing.T) {
	src := "<!-- guide: fails -->\n```sh\ntrue\n```\n"
	err := RunDocument(context.Background(), "f.md", []byte(src), Options{Dir: t.TempDir()})
	if !errors.Is(err, ErrStepFailed) || !strings.Contains(err.Error(), "f.md:2:") {
		t.Fatalf("RunDocument = %v, want ErrStepFailed at f.md:2", err)
	}
}

// A background block waits for its ready command, and whatever it started
// is gone when the run returns, whether the guide passed or failed.
func TestRunDocumentKillsBackgroundProcesses(t *testing.T) {
	for name, tail := range map[string]string{
		"passes": "<!-- guide: run -->\n```sh\ntest -s sleep.pid\n```\n",
		"fails":  "<!-- guide: run -->\n```sh\nfalse\n```\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := "<!-- guide: background: test -s sleep.pid -->\n```sh\nsleep 300 &\necho $! > sleep.pid\nwait\n```\n" + tail
			err := RunDocument(context.Background(), "bg.md", []byte(src), Options{Dir: dir})
			if (err != nil) != (name == "fails") {
				t.Fatalf("RunDocument = %v", err)
			}
			assertGone(t, filepath.Join(dir, "sleep.pid"))
		})
	}
}

func assertGone(t *testing.T, pidFile string) {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("the background sleep %d is still there (kill 0: %v)", pid, err)
	}
}

// The ready command is tried as written: its variables and quotes are the
// shell's each time, not expanded once when the step starts.
func TestRunDocumentTriesTheReadyCommandAsWritten(t *testing.T) {
	src := "<!-- guide: background: for f in a b; do test -e \"$f.ready\" || exit 1; done; grep -q '{}' b.ready -->\n```sh\ntouch a.ready; sleep 0.3; echo '{}' > b.ready; sleep 300\n```\n"
	if err := RunDocument(context.Background(), "ready.md", []byte(src), Options{Dir: t.TempDir(), ReadyTimeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
}

func TestRunDocumentReportsABackgroundStepNeverReady(t *testing.T) {
	src := "<!-- guide: background: false -->\n```sh\nsleep 300\n```\n"
	err := RunDocument(context.Background(), "never.md", []byte(src), Options{Dir: t.TempDir(), ReadyTimeout: time.Second})
	if !errors.Is(err, ErrStepFailed) || !strings.Contains(err.Error(), "not ready after 1s") {
		t.Fatalf("RunDocument = %v, want a step never ready", err)
	}
}

func TestRunDocumentStopsAtItsTimeout(t *testing.T) {
	src := "<!-- guide: run -->\n```sh\nsleep 300\n```\n"
	err := RunDocument(context.Background(), "slow.md", []byte(src), Options{Dir: t.TempDir(), Timeout: 500 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "slow.md:2:") {
		t.Fatalf("RunDocument = %v, want ErrTimeout at slow.md:2", err)
	}
}

func TestRunDocumentRunsATranscriptAndReportsTheCommandThatDiffers(t *testing.T) {
	ok := "<!-- guide: transcript -->\n```\n$ echo one; echo two\none\ntwo\n$ X=3; echo x is $X\nx is 3\n```\n"
	if err := RunDocument(context.Background(), "t.md", []byte(ok), Options{Dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	bad := "<!-- guide: transcript -->\n```\n$ echo one\none\n$ echo two\nthree\n```\n"
	err := RunDocument(context.Background(), "t.md", []byte(bad), Options{Dir: t.TempDir()})
	if !errors.Is(err, ErrOutputDiffers) || !strings.HasPrefix(err.Error(), "t.md:5:") {
		t.Fatalf("RunDocument = %v, want ErrOutputDiffers at t.md:5", err)
	}
}
