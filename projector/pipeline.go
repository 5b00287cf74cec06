package projector

import (
	"github.com/crosstalk-dev/crosstalk/events"
)

// pipeline applies the runs a Source reads for Run. A full run (MaxBatch
// messages: the store is behind the log) is applied on a goroutine of its
// own, so that the Source fetches and converts the next run from JetStream
// meanwhile: during a catch-up the two overlap instead of taking turns. A
// shorter run means the store has caught up; it is applied on the
// caller's goroutine, as before, so that following a live log costs no
// hand-over per event. Either way a run is applied only after the one
// before it, and after a failed Apply nothing more is (a later run would
// leave a gap behind the checkpoint).
//
// feed and wait are called from the Source's goroutine only.
type pipeline struct {
	s        *Store
	stream   int
	full     int
	inFlight chan error // the result of the run applied in the background, or nil
	err      error      // the first failed Apply's
}

// pipeline returns Run's pipeline; Run calls wait once Read returns.
func (s *Store) pipeline() *pipeline { return s.streamPipeline(0) }

// streamPipeline is the pipeline of one stream of a store of several.
func (s *Store) streamPipeline(stream int) *pipeline {
	return &pipeline{s: s, stream: stream, full: s.opts.MaxBatch}
}

// feed is the Source's callback: it applies run, in the background if it
// is full, once the previous run is applied.
func (p *pipeline) feed(run []events.Message) error {
	if err := p.wait(); err != nil {
		return err
	}
	if len(run) < p.full {
		p.err = p.s.ApplyStream(p.stream, run)
		return p.err
	}
	done := make(chan error, 1)
	go func() { done <- p.s.ApplyStream(p.stream, run) }()
	p.inFlight = done
	return nil
}

// wait waits for the run applied in the background, if any, and returns
// the error of a failed Apply.
func (p *pipeline) wait() error {
	if p.inFlight != nil {
		p.err = <-p.inFlight
		p.inFlight = nil
	}
	return p.err
}
