package guides

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

var (
	// ErrStepFailed is a run or background block that failed, or a fails
	// block that succeeded.
	ErrStepFailed = errors.New("guide step failed")
	// ErrTimeout is a document that did not finish within Options.Timeout.
	ErrTimeout = errors.New("guide did not finish in time")
	// ErrInvalidOptions is an Options that Validate refuses.
	ErrInvalidOptions = errors.New("invalid guide runner options")
)

// Options tunes a run. A zero field takes its default.
type Options struct {
	// Dir is the directory the session starts in; default a fresh
	// temporary directory, removed after the run.
	Dir string
	// Path is prepended to PATH (the directories of crosstalk, nats and
	// nats-server); default nothing.
	Path []string
	// Copy lists files copied into Dir before the first block, as the
	// path in Dir to the path of the source; default none.
	Copy map[string]string
	// Timeout bounds a whole document; default 3 minutes.
	Timeout time.Duration
	// ReadyTimeout bounds a background block's wait for its ready command;
	// default 30 seconds.
	ReadyTimeout time.Duration
}

// Validate refuses negative durations.
func (o Options) Validate() error {
	if o.Timeout < 0 || o.ReadyTimeout < 0 {
		return fmt.Errorf("%w: negative timeout", ErrInvalidOptions)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Minute
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 30 * time.Second
	}
	return o
}

// RunDocument parses a markdown document and runs its run, fails and
// background blocks in order in one bash session, checking each output
// block against the step above it. Every process the session started is
// killed before it returns. Its error names the document, the block's line
// and what the block printed.
func RunDocument(ctx context.Context, doc string, src []byte, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	blocks, err := Parse(doc, src)
	if err != nil {
		return err
	}
	opts = opts.withDefaults()
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", "guide-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		opts.Dir = dir
	}
	if err := copyFiles(opts.Dir, opts.Copy); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	s, err := startSession(opts)
	if err != nil {
		return err
	}
	defer s.stop()
	return s.runAll(ctx, doc, blocks)
}

func copyFiles(dir string, files map[string]string) error {
	for to, from := range files {
		data, err := os.ReadFile(from)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, to)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// session is one bash process, in a process group of its own, fed the
// blocks on its stdin; it answers "@@guide <status>" on stdout after each.
type session struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	done   chan string // the status lines; closed when bash exits
	dir    string
	opts   Options
	stepN  int
	exited bool
}

// preamble makes the session a reader's shell: stop at the first failing
// command, `go run ./cmd/crosstalk` is the crosstalk on PATH, and ready
// waits for a background step.
const preamble = `set -e
go() { if [ "$1" = run ] && [ "$2" = ./cmd/crosstalk ]; then shift 2; crosstalk "$@"; else command go "$@"; fi; }
__guide_ready() { local end=$((SECONDS+$2)); until (eval "$1") >/dev/null 2>&1; do
  if [ $SECONDS -ge $end ]; then echo "not ready after $2s: $1"; return 1; fi; sleep 0.1; done; }
`

func startSession(opts Options) (*session, error) {
	home := filepath.Join(opts.Dir, ".home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command("bash", "--noprofile", "--norc")
	cmd.Dir = opts.Dir
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"PATH="+strings.Join(append(append([]string{}, opts.Path...), os.Getenv("PATH")), string(os.PathListSeparator)))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &session{cmd: cmd, in: in, done: make(chan string), dir: opts.Dir, opts: opts}
	go s.read(out)
	_, err = io.WriteString(in, preamble)
	return s, err
}

func (s *session) read(out io.Reader) {
	defer close(s.done)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if status, ok := strings.CutPrefix(sc.Text(), "@@guide "); ok {
			s.done <- status
		}
	}
}
