package service

import (
	"context"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/crosstalk-dev/crosstalk/pipeline"
)

// executeWave runs jobs as execute runs one, but appends theirs together:
// the jobs on distinct aggregates are decided under their entries' locks,
// appended in one eventlog.AppendAll (one publish round, one signature of
// the batch), and each settled with its result; those that conflicted are
// caught up, decided and appended again, together. A later job on an
// aggregate already in the wave waits for the next round, so that the
// jobs of one aggregate are decided in the order of jobs.
func (s *Service) executeWave(ctx context.Context, jobs []*write) {
	for len(jobs) > 0 {
		var round []*write
		round, jobs = distinct(jobs)
		s.executeRound(ctx, round)
	}
}

// distinct splits jobs into the first of each aggregate and the rest, each
// in the order of jobs.
func distinct(jobs []*write) (first, rest []*write) {
	seen := make(map[string]bool, len(jobs))
	for _, w := range jobs {
		if seen[w.e.subject] {
			rest = append(rest, w)
			continue
		}
		seen[w.e.subject] = true
		first = append(first, w)
	}
	return first, rest
}

// executeRound executes jobs on distinct aggregates: it loads those not
// cached (loadAll), then decides and appends the others together, all of
// it bounded by Options.AppendTimeout, as execute bounds one command.
func (s *Service) executeRound(ctx context.Context, jobs []*write) {
	defer lockAll(jobs)()
	loaded := s.loadAll(ctx, jobs)
	bounded, cancel := context.WithTimeoutCause(ctx, s.opts.AppendTimeout, errAppendTimeout)
	defer cancel()
	s.appendRound(bounded, loaded)
	for _, w := range loaded {
		w.err = s.failFast(bounded, w.err)
	}
}

// coldLoads bounds the aggregates a wave loads from the log at once.
const coldLoads = 64

// loadAll loads the aggregates of jobs that are not cached, up to
// coldLoads at once, each bounded by Options.AppendTimeout as execute
// bounds a command: the backlog of a restarted service meets every
// aggregate cold, and loading hundreds one after another under one bound
// would time them all out, again and again. It returns the jobs loaded;
// the others have their error. The caller holds the entries' locks.
func (s *Service) loadAll(ctx context.Context, jobs []*write) (loaded []*write) {
	var g errgroup.Group
	g.SetLimit(coldLoads)
	for _, w := range jobs {
		if w.e.loaded {
			s.observer.CacheLookup(true)
			continue
		}
		g.Go(func() error {
			bounded, cancel := context.WithTimeoutCause(ctx, s.opts.AppendTimeout, errAppendTimeout)
			defer cancel()
			w.err = s.failFast(bounded, s.loaded(bounded, w.e))
			return nil
		})
	}
	_ = g.Wait() // the goroutines return nil; each error is its job's
	for _, w := range jobs {
		if w.err == nil {
			loaded = append(loaded, w)
		}
	}
	return loaded
}

// lockAll locks the entries of jobs, in the order of their subjects so that
// two waves could never wait for each other, and returns what unlocks and
// settles them (cache.go).
func lockAll(jobs []*write) (unlock func()) {
	sorted := slices.Clone(jobs)
	slices.SortFunc(sorted, func(a, b *write) int { return strings.Compare(a.e.subject, b.e.subject) })
	for _, w := range sorted {
		w.e.mu.Lock()
		w.e.begin()
	}
	return func() {
		for _, w := range sorted {
			w.e.settle()
			w.e.mu.Unlock()
		}
	}
}

// appendRound writes live together through the pipeline, each job
// decided, all appended in one AppendAll, each settled, and those that
// conflicted caught up and written again, in rounds (pipeline.WriteAll).
func (s *Service) appendRound(ctx context.Context, live []*write) {
	jobs := make([]pipeline.Job, len(live))
	for i, w := range live {
		jobs[i] = w
	}
	s.pipe.WriteAll(ctx, jobs)
}
