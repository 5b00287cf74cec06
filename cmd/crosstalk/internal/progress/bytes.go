package progress

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Bytes shows how many bytes of a whole are done: a bar with bytes/s and
// ETA when w is a terminal, otherwise a line at most every interval and
// one at the end. Backup and restore show their progress with it.
type Bytes struct {
	w        io.Writer
	verb     string // the lines' verb, "backed up" or "restored"
	bar      *progressbar.ProgressBar
	interval time.Duration
	shown    time.Time
	done     uint64
	total    uint64
}

// NewBytes shows progress on w: the bar is described by name, and each
// line starts with verb.
func NewBytes(w io.Writer, name, verb string) *Bytes {
	p := &Bytes{w: w, verb: verb, interval: time.Second, shown: time.Now()}
	if IsTerminal(w) {
		p.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(name),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionFullWidth(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
	}
	return p
}

// Show is the Progress callback of backup and restore.
func (p *Bytes) Show(done, total uint64) {
	p.done, p.total = done, total
	if p.bar != nil {
		if p.bar.GetMax64() != int64(total) {
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

// Finish ends the bar, or writes the last line when the run succeeded.
func (p *Bytes) Finish(ok bool) { finish(p.bar, ok, p.line) }

func (p *Bytes) line() {
	fmt.Fprintf(p.w, "%s %s of %s\n", p.verb, size(p.done), size(p.total))
}

// size is n bytes for people: B, KiB, MiB or GiB.
func size(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
