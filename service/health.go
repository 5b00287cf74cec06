package service

import (
	"context"
	"time"
)

// StreamWatcher is the part of the log that watches the stream's
// configuration while the service runs; *eventlog.Log has it. A Log
// without it is not watched, and Healthy never blames the stream.
type StreamWatcher interface {
	// WatchConfig checks the stream's configuration every interval until
	// ctx is done.
	WatchConfig(ctx context.Context, interval time.Duration)
	// ConfigProblem is what the last check found wrong, or nil. While it
	// is not nil the log refuses appends.
	ConfigProblem() error
}

// watchStream runs the log's configuration watch, every
// Options.StreamCheckInterval, until ctx is done.
func (s *Service) watchStream(ctx context.Context) {
	if w, ok := s.log.(StreamWatcher); ok {
		w.WatchConfig(ctx, s.opts.StreamCheckInterval)
	}
}

// Healthy returns nil while the service can accept writes, or why it
// cannot: the stream's configuration was changed under it (an error
// wrapping eventlog.ErrStreamMisconfigured that names what changed). A
// readiness probe fails while it is not nil.
func (s *Service) Healthy() error {
	if w, ok := s.log.(StreamWatcher); ok {
		return w.ConfigProblem()
	}
	return nil
}
