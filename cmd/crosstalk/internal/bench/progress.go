package bench

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// NewProgress shows a progress bar per phase on a terminal, and a line per
// phase otherwise (a log, a pipe, a test).
func NewProgress(w io.Writer) Progress {
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return &barProgress{w: w}
		}
	}
	return &lineProgress{w: w}
}

// barProgress draws one progress bar per phase.
type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) Phase(name string, total int64) {
	p.bar = progressbar.NewOptions64(max(total, 1),
		progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(fmt.Sprintf("%-22s", name)),
		progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionSetPredictTime(false),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }))
}

func (p *barProgress) Set(done int64) { _ = p.bar.Set64(done) }

func (p *barProgress) Done() { _ = p.bar.Finish() }

// lineProgress writes a line when a phase starts and when it ends.
type lineProgress struct {
	w     io.Writer
	name  string
	start time.Time
}

func (p *lineProgress) Phase(name string, total int64) {
	p.name, p.start = name, time.Now()
	fmt.Fprintf(p.w, "bench: %s started\n", name)
}

func (p *lineProgress) Set(int64) {}

func (p *lineProgress) Done() {
	fmt.Fprintf(p.w, "bench: %s ended after %.1fs\n", p.name, time.Since(p.start).Seconds())
}
