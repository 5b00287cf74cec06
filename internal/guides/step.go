package guides

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runAll runs the blocks in order and stops at the first failure.
func (s *session) runAll(ctx context.Context, doc string, blocks []Block) error {
	var last string // what the last run or fails block printed
	for _, b := range blocks {
		switch b.Kind {
		case Run, Fails, Background:
			out, err := s.step(ctx, b)
			if err != nil {
				return fmt.Errorf("%s:%d: %w\n--- the block:\n%s--- what it printed:\n%s", doc, b.Line, err, b.Text, out)
			}
			if b.Kind != Background {
				last = out
			}
		case Transcript:
			if err := s.transcript(ctx, doc, b); err != nil {
				return err
			}
		case Output:
			if err := Compare(b.Text, last); err != nil {
				return fmt.Errorf("%s:%d: %w\n--- the step above printed:\n%s", doc, b.Line, err, last)
			}
		}
	}
	return nil
}

// transcript runs a transcript block's commands in turn, each compared
// with the lines the block shows after it.
func (s *session) transcript(ctx context.Context, doc string, b Block) error {
	for _, c := range commands(b) {
		out, err := s.step(ctx, c.Block)
		if err == nil {
			err = Compare(c.want, out)
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w\n--- the command:\n%s--- what it printed:\n%s", doc, c.Line, err, c.Text, out)
		}
	}
	return nil
}

// shown is one command of a transcript, as a run block, and its output.
type shown struct {
	Block
	want string
}

// commands splits a transcript at its "$ " lines; a command's Line is its
// line in the document.
func commands(b Block) []shown {
	var out []shown
	for i, line := range strings.Split(b.Text, "\n") {
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			out = append(out, shown{Block: Block{Line: b.Line + 1 + i, Kind: Run, Text: cmd + "\n"}})
		} else if len(out) > 0 {
			out[len(out)-1].want += line + "\n"
		}
	}
	return out
}

// step runs one block and returns what it printed.
func (s *session) step(ctx context.Context, b Block) (string, error) {
	s.stepN++
	script := filepath.Join(s.dir, ".guide", fmt.Sprintf("%d-line%d.sh", s.stepN, b.Line))
	log := script + ".out"
	if err := os.MkdirAll(filepath.Dir(script), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(script, []byte(b.Text), 0o644); err != nil {
		return "", err
	}
	if _, err := s.in.Write([]byte(command(b, script, log, s.opts.ReadyTimeout))); err != nil {
		return "", fmt.Errorf("%w: the session ended: %v", ErrStepFailed, err)
	}
	status, err := s.wait(ctx)
	out, _ := os.ReadFile(log)
	if err != nil {
		return string(out), err
	}
	if (b.Kind == Fails) != (status != "0") {
		return string(out), fmt.Errorf("%w: a %s block ended with status %s", ErrStepFailed, b.Kind, status)
	}
	return string(out), nil
}

// command is the shell text that runs one block in the session.
func command(b Block, script, log string, ready time.Duration) string {
	q := shellQuote
	switch b.Kind {
	case Fails:
		return fmt.Sprintf("if source %s >%s 2>&1 </dev/null; then echo '@@guide 0'; else echo \"@@guide $?\"; fi\n", q(script), q(log))
	case Background:
		return fmt.Sprintf("source %s >%s 2>&1 </dev/null &\n__guide_ready %s %d >>%s 2>&1\necho '@@guide 0'\n",
			q(script), q(log), q(b.Arg), int(ready.Seconds()), q(log))
	default:
		return fmt.Sprintf("source %s >%s 2>&1 </dev/null\necho '@@guide 0'\n", q(script), q(log))
	}
}

// shellQuote quotes s for bash, expanding nothing: a ready command's
// variables and $(…) are expanded each time it is tried.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// wait returns the status bash reports for the step, or why it reported
// none: the session exited (set -e: a command failed) or time ran out.
func (s *session) wait(ctx context.Context) (string, error) {
	select {
	case status, ok := <-s.done:
		if !ok {
			s.reap()
			return "", fmt.Errorf("%w: %v", ErrStepFailed, s.cmd.ProcessState)
		}
		return status, nil
	case <-ctx.Done():
		return "", fmt.Errorf("%w: %v", ErrTimeout, ctx.Err())
	}
}

// stop ends the session and kills every process of its group (the
// background steps' servers): SIGTERM, then SIGKILL to whatever is left
// after 5 seconds.
func (s *session) stop() {
	_ = s.in.Close()
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	hard := time.AfterFunc(5*time.Second, func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	defer hard.Stop()
	for range s.done {
	}
	s.reap()
	for end := time.Now().Add(10 * time.Second); syscall.Kill(-pgid, 0) == nil && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
}

// reap waits for bash once.
func (s *session) reap() {
	if !s.exited {
		s.exited = true
		_ = s.cmd.Wait()
	}
}
