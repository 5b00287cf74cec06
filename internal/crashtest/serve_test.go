package crashtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// readyLine is what serve logs once its endpoints answer.
const readyLine = "crosstalk service ready"

// Bounds of the child's life cycle.
const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 60 * time.Second
)

// crosstalkBuild is the crosstalk binary, built once per run of the test
// binary (its tests share it) into a directory TestMain removes.
var crosstalkBuild build

// buildBinary builds ./cmd/crosstalk of this module, once per run, and
// returns its path. Under -race the binary is built with the race detector
// too, so serve's own races fail the test.
func buildBinary(t *testing.T) string {
	t.Helper()
	args := []string{"-ldflags=-s -w"} // no symbols: links faster
	if raceEnabled {
		args = append(args, "-race")
	}
	return crosstalkBuild.get(t, "crosstalk", "./cmd/crosstalk", args...)
}

// child is one run of `crosstalk serve`.
type child struct {
	cmd    *exec.Cmd
	stderr *testkit.LockedBuffer
	exited chan struct{} // closed once Wait has returned
	err    error         // Wait's result, set before exited is closed
}

func (c *child) waitExit(timeout time.Duration) bool {
	select {
	case <-c.exited:
		return true
	case <-time.After(timeout):
		return false
	}
}

// serveProcess runs `crosstalk serve --data dir --listen addr --sync-always`
// as a child process and can kill it, restart it and stop it cleanly. Its
// methods are safe for concurrent use (a kill and its restart are one step)
// and return errors rather than failing the test, so that goroutines other
// than the test's may call them.
type serveProcess struct {
	bin  string
	dir  string
	addr string
	args []string // serve's arguments

	mu      sync.Mutex
	cur     *child
	runs    int
	kills   int
	races   []string
	downs   []time.Duration // how long each Crash kept serve away
	history strings.Builder // stderr of every finished run, for failures
}

func newServeProcess(t *testing.T, bin, dir, addr string) *serveProcess {
	return newServeProcessArgs(t, bin, dir, addr, "serve", "--data", dir, "--listen", addr, "--sync-always")
}

// newServeProcessArgs is newServeProcess with serve's arguments args; addr
// is where its clients connect.
func newServeProcessArgs(t *testing.T, bin, dir, addr string, args ...string) *serveProcess {
	p := &serveProcess{bin: bin, dir: dir, addr: addr, args: args}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.cur != nil {
			_ = p.killLocked()
		}
	})
	return p
}

// Start runs serve and waits until it is ready.
func (p *serveProcess) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.spawnLocked(); err != nil {
		return err
	}
	return p.waitReadyLocked()
}

// Crash kills serve with SIGKILL, starts it again on the same data and
// port, and, when recoveryKill > 0, kills that new run after recoveryKill
// (while it recovers: before or around its ready line) and starts it once
// more. It returns once serve is ready again.
func (p *serveProcess) Crash(recoveryKill time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	began := time.Now()
	defer func() { p.downs = append(p.downs, time.Since(began)) }()
	if err := p.killLocked(); err != nil {
		return err
	}
	if err := p.spawnLocked(); err != nil {
		return err
	}
	if recoveryKill > 0 {
		time.Sleep(recoveryKill)
		if err := p.killLocked(); err != nil {
			return err
		}
		if err := p.spawnLocked(); err != nil {
			return err
		}
	}
	return p.waitReadyLocked()
}

// Kill kills serve with SIGKILL, not to start again until Start.
func (p *serveProcess) Kill() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killLocked()
}

// Stop sends SIGTERM and expects serve to shut down cleanly, with exit
// status 0.
func (p *serveProcess) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.cur
	if c == nil {
		return nil
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("SIGTERM serve: %w", err)
	}
	if !c.waitExit(stopTimeout) {
		_ = p.killLocked()
		return fmt.Errorf("serve did not stop within %s of SIGTERM:\n%s", stopTimeout, tail(c.stderr.String()))
	}
	p.finishLocked()
	if c.err != nil {
		return fmt.Errorf("serve did not stop cleanly: %w\n%s", c.err, tail(c.stderr.String()))
	}
	return nil
}

// Kills is how many times serve was killed.
func (p *serveProcess) Kills() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.kills
}

// Downtimes returns how long each Crash took, from the kill until serve
// was ready again.
func (p *serveProcess) Downtimes() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.downs
}

// Races returns the output of every run that reported a data race.
func (p *serveProcess) Races() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.races
}

// Logs is the stderr of every run so far.
func (p *serveProcess) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.history.String()
	if p.cur != nil {
		s += p.cur.stderr.String()
	}
	return s
}

func (p *serveProcess) spawnLocked() error {
	c := &child{stderr: &testkit.LockedBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(p.bin, p.args...)
	c.cmd.Stdout = c.stderr
	c.cmd.Stderr = c.stderr
	p.runs++
	fmt.Fprintf(c.stderr, "--- run %d ---\n", p.runs)
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start serve: %w", err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	p.cur = c
	return nil
}

func (p *serveProcess) waitReadyLocked() error {
	c := p.cur
	deadline := time.After(readyTimeout)
	for !strings.Contains(c.stderr.String(), readyLine) {
		select {
		case <-c.exited:
			p.finishLocked()
			return fmt.Errorf("serve exited before it was ready: %v\n%s", c.err, tail(p.history.String()))
		case <-deadline:
			return fmt.Errorf("serve not ready within %s:\n%s", readyTimeout, tail(c.stderr.String()))
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// killLocked kills the current run with SIGKILL and waits until it is gone.
func (p *serveProcess) killLocked() error {
	c := p.cur
	if c == nil {
		return errors.New("serve is not running")
	}
	select {
	case <-c.exited:
		p.finishLocked()
		return fmt.Errorf("serve died by itself before it was killed: %v\n%s", c.err, tail(p.history.String()))
	default:
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("SIGKILL serve: %w", err)
	}
	if !c.waitExit(stopTimeout) {
		return fmt.Errorf("serve pid %d survived SIGKILL for %s", c.cmd.Process.Pid, stopTimeout)
	}
	p.kills++
	p.finishLocked()
	return nil
}

// finishLocked files the ended run's output and notes a reported race.
func (p *serveProcess) finishLocked() {
	out := p.cur.stderr.String()
	p.history.WriteString(out)
	p.cur = nil
	if strings.Contains(out, "WARNING: DATA RACE") {
		p.races = append(p.races, out)
	}
}

// tail keeps the end of a long log for a failure message.
func tail(s string) string {
	const keep = 8000
	if len(s) <= keep {
		return s
	}
	return "...\n" + s[len(s)-keep:]
}
