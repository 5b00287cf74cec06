package nodestatus

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// StreamWatcher is the part of the log that watches the stream's
// configuration while the service runs; *eventlog.Log has it. A Log
// without it is not watched, and Healthy never blames the stream.
type StreamWatcher interface {
	// WatchConfig starts watching the stream's configuration (so that a
	// change made after it returns is noticed) and returns the watch,
	// which checks every interval, and on the stream's advisories, until
	// ctx is done.
	WatchConfig(interval time.Duration) (watch func(ctx context.Context))
	// ConfigProblem is what the last check found wrong, or nil. While it
	// is not nil the log refuses appends.
	ConfigProblem() error
}

// StreamWatch starts the log's configuration watch and returns it, to be
// run until the service stops (every StreamCheckInterval, and on the
// stream's advisories); without a Watcher it returns a watch that does
// nothing.
func (r *Reporter) StreamWatch() func(ctx context.Context) {
	if r.cfg.Watcher != nil {
		return r.cfg.Watcher.WatchConfig(r.cfg.StreamCheckInterval)
	}
	return func(context.Context) {}
}

// Healthy returns nil while the service can accept writes, or why it
// cannot: the stream's configuration was changed under it (an error
// wrapping eventlog.ErrStreamMisconfigured that names what changed). A
// readiness probe fails while it is not nil.
func (r *Reporter) Healthy() error {
	if r.cfg.Watcher != nil {
		return r.cfg.Watcher.ConfigProblem()
	}
	return nil
}

// Reasons a readiness probe fails (Readiness); each is wrapped with what
// was found.
var (
	// ErrStreamUnreachable: the log did not answer.
	ErrStreamUnreachable = errors.New("stream unreachable")
	// ErrNotProjecting: the projection loop is not following the log.
	ErrNotProjecting = errors.New("projector not running")
	// ErrLagging: the read model is further behind the log than allowed.
	ErrLagging = errors.New("read model lagging")
	// ErrNotCaughtUpAtStart: after a start, the views have not yet applied
	// what the log held then, so queries would answer older than before.
	ErrNotCaughtUpAtStart = errors.New("read model not caught up since start")
)

// Readiness returns nil while the service should take traffic, or the
// first reason it should not, in this order: the stream is unreachable,
// the read model is more than maxLag events behind the log, the projector
// is not running, or the stream's configuration is wrong (Healthy). A
// service without a read model checks the stream alone.
func (r *Reporter) Readiness(ctx context.Context, maxLag uint64) error {
	last, err := r.src.LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStreamUnreachable, err)
	}
	views := r.src.Views()
	if views == nil { // a node without a read model has nothing to lag
		return r.Healthy()
	}
	if cp := views.Checkpoint(); last > cp && last-cp > maxLag {
		return fmt.Errorf("%w: %d events behind the log (stream seq %d, views at %d), more than %d",
			ErrLagging, last-cp, last, cp, maxLag)
	}
	if !r.src.Projecting() {
		return ErrNotProjecting
	}
	if !r.src.CaughtUpAtStart() {
		return fmt.Errorf("%w: the views have not yet applied the stream's last sequence as of start (%d); "+
			"queries wait until they have", ErrNotCaughtUpAtStart, r.src.StartSeq())
	}
	return r.Healthy()
}
