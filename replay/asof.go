package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// AsOf is a read model of the history as it stood at an instant: a fresh
// projector store into which every event whose CloudEvents time is not
// after At was applied, in stream order.
type AsOf struct {
	Store *projector.Store
	// At is the instant.
	At time.Time
	// Events counts the events applied; LastSeq is the last one's stream
	// sequence (0 if none, and on a partitioned log, whose streams each
	// have their own sequences).
	Events  uint64
	LastSeq uint64
}

// errNoInstant refuses the zero time, which Options.UntilTime takes for
// "no bound": the views as of it would hold the whole history.
var errNoInstant = errors.New("views as of the zero time: give an instant")

// BuildAsOf applies to a new projector store in dir every event of the
// log whose time is not after at (every stream of a partitioned log, in
// its order, as Run reads FromStreams): it is Run with Options.UntilTime, so
// the views as of a time and a replay until that time are one computation.
// The caller closes the store. A body that does not decode has no time and
// is left out, as audit.Verify reports it.
func BuildAsOf(ctx context.Context, log audit.Log, at time.Time, dir string, logger *slog.Logger) (*AsOf, error) {
	if at.IsZero() {
		return nil, errNoInstant
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	logs, _, err := audit.StreamsOf(ctx, log)
	if err != nil {
		return nil, fmt.Errorf("views as of %s: %w", at.Format(time.RFC3339Nano), err)
	}
	store, err := projector.Open(projector.Options{Dir: dir, Logger: logger, Streams: len(logs)})
	if err != nil {
		return nil, err
	}
	a := &AsOf{Store: store, At: at.UTC()}
	var res Result
	src, err := FromStreams(ctx, logs)
	if err == nil {
		res, err = Run(ctx, src, store, Options{UntilTime: a.At})
	}
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("views as of %s: %w", a.At.Format(time.RFC3339Nano), err)
	}
	a.Events, a.LastSeq = res.Events, res.LastSeq
	return a, nil
}

// ParseInstant reads an instant: an RFC 3339 time, or a date (2023-12-13)
// meaning the last instant of that day in UTC, 2023-12-13T23:59:59.999999999Z,
// so that "as of that date" includes every event of the day.
func ParseInstant(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	day, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2023-12-14T00:00:00Z) nor a date (2023-12-13)", s)
	}
	return day.AddDate(0, 0, 1).Add(-time.Nanosecond), nil
}
