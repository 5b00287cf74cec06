package projector

import (
	"sync"

	"github.com/crosstalk-dev/crosstalk/events"
)

// pipeline applies the runs a Source reads on a goroutine of its own, so
// that the Source fetches and converts the next run from JetStream while
// the store applies this one: during a catch-up the two overlap instead of
// taking turns. The hand-over is unbuffered, so at most one run is applied
// while the next is read, and runs are applied in the order read.
//
// After a failed Apply it applies nothing more (a later run would leave a
// gap behind the checkpoint) and hands the error back to the Source on the
// next run, or to Run from wait.
type pipeline struct {
	s    *Store
	runs chan []events.Message
	done chan struct{}

	mu  sync.Mutex
	err error // the first failed Apply's
}

// pipeline starts the applying goroutine; wait ends it.
func (s *Store) pipeline() *pipeline {
	p := &pipeline{s: s, runs: make(chan []events.Message), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *pipeline) loop() {
	defer close(p.done)
	for run := range p.runs {
		if p.failed() != nil {
			continue
		}
		if err := p.s.Apply(run); err != nil {
			p.mu.Lock()
			p.err = err
			p.mu.Unlock()
		}
	}
}

func (p *pipeline) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// feed is the Source's callback: it hands run over once the previous one
// is applied, or returns the error that stopped the applying.
func (p *pipeline) feed(run []events.Message) error {
	if err := p.failed(); err != nil {
		return err
	}
	p.runs <- run
	return nil
}

// wait lets the run in hand be applied, ends the goroutine and returns the
// error of a failed Apply, if any.
func (p *pipeline) wait() error {
	close(p.runs)
	<-p.done
	return p.failed()
}
