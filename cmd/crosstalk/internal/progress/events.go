// Package progress shows how far a long run is on a writer: a bar on a
// terminal, plain lines otherwise (a log, a pipe, a test's buffer).
package progress

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Events shows a replay's progress on w: a bar with events/s and
// ETA when w is a terminal, otherwise a line at most every interval and one
// at the end. The views rebuild shows its progress with it too.
type Events struct {
	w        io.Writer
	name     string // the bar's description, "replay" or "rebuild"
	verb     string // the lines' verb, "replayed" or "rebuilt"
	bar      *progressbar.ProgressBar
	start    time.Time
	interval time.Duration
	shown    time.Time
	done     uint64
	total    uint64
	took     time.Duration // the run's own measure of its time, once known
}

// NewReplay shows a replay's progress.
func NewReplay(w io.Writer) *Events { return newEvents(w, "replay", "replayed") }

// NewRebuild shows a views rebuild's progress.
func NewRebuild(w io.Writer) *Events {
	return newEvents(w, "rebuild", "rebuilt")
}

func newEvents(w io.Writer, name, verb string) *Events {
	p := &Events{w: w, name: name, verb: verb, start: time.Now(), interval: time.Second}
	p.shown = p.start
	if IsTerminal(w) {
		p.bar = newReplayBar(w, name)
	}
	return p
}

func newReplayBar(w io.Writer, name string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(name),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionFullWidth(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

// Show is the replay's Progress callback.
func (p *Events) Show(done, total uint64) {
	p.done, p.total = done, total
	if p.bar != nil {
		if total > 0 && p.bar.GetMax64() != int64(total) {
			p.bar.ChangeMax64(int64(total))
		}
		_ = p.bar.Set64(int64(done))
		return
	}
	if now := time.Now(); now.Sub(p.shown) >= p.interval {
		p.shown = now
		p.line()
	}
}

// FinishIn is Finish for a run that measured its own time, took: the
// last line's rate is done over took, not over the time since this
// display started (a rebuild of 28 ms watched at 20 ms intervals said "26
// events/s": the watcher's time, not the rebuild's).
func (p *Events) FinishIn(ok bool, took time.Duration) {
	p.took = took
	p.Finish(ok)
}

// Finish ends the bar, or writes the last line when the replay succeeded.
func (p *Events) Finish(ok bool) { finish(p.bar, ok, p.line) }

func (p *Events) line() {
	took := p.took
	if took <= 0 {
		took = time.Since(p.start)
	}
	rate := float64(p.done) / max(took.Seconds(), 1e-9)
	if p.total > 0 {
		fmt.Fprintf(p.w, "%s %d/%d events, %.0f events/s\n", p.verb, p.done, p.total, rate)
		return
	}
	fmt.Fprintf(p.w, "%s %d events, %.0f events/s\n", p.verb, p.done, rate)
}

// IsTerminal reports whether w is a terminal; only an *os.File can be.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Writer is where the progress goes, for a note between its lines.
func (p *Events) Writer() io.Writer { return p.w }

// finish ends bar, or, without one (the writer is not a terminal),
// writes the last line when the work succeeded.
func finish(bar *progressbar.ProgressBar, ok bool, line func()) {
	if bar != nil {
		if ok {
			_ = bar.Finish()
		}
		_ = bar.Exit()
		return
	}
	if ok {
		line()
	}
}
