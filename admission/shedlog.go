package admission

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/crosstalk-dev/crosstalk/identity"
)

// shedLogEvery is how often the log says, per principal and class, how
// many requests its limits refused meanwhile: an operator learns who is
// shed and how much, and a flood of refusals makes no flood of lines.
const shedLogEvery = 10 * time.Second

// shedCount counts the refusals of one principal's budget since the last
// line about them.
type shedCount struct {
	refused atomic.Int64
	logged  atomic.Int64 // unix nanoseconds of the last line; 0: none yet
}

// add counts one refusal at now and reports how many to log, or 0 while
// the last line is younger than shedLogEvery. The first refusal is logged
// at once; one caller of many wins each line.
func (c *shedCount) add(now time.Time) int64 {
	c.refused.Add(1)
	last := c.logged.Load()
	if last != 0 && now.UnixNano()-last < int64(shedLogEvery) {
		return 0
	}
	if !c.logged.CompareAndSwap(last, now.UnixNano()) {
		return 0
	}
	return c.refused.Swap(0)
}

// logShed writes the line for n requests of class refused to p by err.
func logShed(log *slog.Logger, p identity.Principal, class string, n int64, err error) {
	if log == nil || n == 0 {
		return
	}
	log.Warn("service sheds requests beyond a principal's limit (429)",
		slog.String("principal", who(p)), slog.String("class", class),
		slog.Int64("refused", n), slog.Duration("per", shedLogEvery), slog.Any("err", err))
}
