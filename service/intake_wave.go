package service

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/eventlog"
)

// waveJob is one command of a wave and, once executed, its answer.
type waveJob struct {
	job
	d     decided // its event, while it is being appended
	reply api.CommandReply
	err   error
}

// executeWave runs jobs as execute runs one, but appends theirs together:
// the jobs on distinct aggregates are decided under their entries' locks,
// appended in one eventlog.AppendAll (one publish round, one signature of
// the batch), and each settled with its result; those that conflicted are
// caught up, decided and appended again, together. A later job on an
// aggregate already in the wave waits for the next round, so that the
// jobs of one aggregate are decided in the order of jobs.
func (s *Service) executeWave(ctx context.Context, jobs []*waveJob) {
	for len(jobs) > 0 {
		var round []*waveJob
		round, jobs = distinct(jobs)
		s.executeRound(ctx, round)
	}
}

// distinct splits jobs into the first of each aggregate and the rest, each
// in the order of jobs.
func distinct(jobs []*waveJob) (first, rest []*waveJob) {
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
func (s *Service) executeRound(ctx context.Context, jobs []*waveJob) {
	defer lockAll(jobs)()
	loaded := s.loadAll(ctx, jobs)
	bounded, cancel := context.WithTimeoutCause(ctx, s.opts.AppendTimeout, errAppendTimeout)
	defer cancel()
	for attempt, live := 0, loaded; len(live) > 0; attempt++ {
		live = s.appendRound(bounded, live, attempt)
	}
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
func (s *Service) loadAll(ctx context.Context, jobs []*waveJob) (loaded []*waveJob) {
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
func lockAll(jobs []*waveJob) (unlock func()) {
	sorted := slices.Clone(jobs)
	slices.SortFunc(sorted, func(a, b *waveJob) int { return strings.Compare(a.e.subject, b.e.subject) })
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

// appendRound decides each of live, appends the events decided together
// and settles each with its result, as executeBounded's loop does one; it
// returns the jobs to try again, those that conflicted.
func (s *Service) appendRound(ctx context.Context, live []*waveJob, attempt int) (retry []*waveJob) {
	entries := make([]eventlog.Entry, 0, len(live))
	pending := live[:0:0]
	for _, w := range live {
		d, reply, done, err := s.decide(ctx, w.e, w.cmd)
		if done {
			w.reply, w.err = reply, err
			continue
		}
		w.d = d
		entries = append(entries, eventlog.Entry{Subject: w.e.subject, ExpectedSeq: w.e.state.Position().LastSeq,
			MsgID: commandKey(w.cmd), Data: d.data})
		pending = append(pending, w)
	}
	if len(entries) == 0 {
		return nil
	}
	start := time.Now()
	results := s.log.AppendAll(ctx, entries)
	elapsed := time.Since(start)
	for i, w := range pending {
		s.observer.Appended(elapsed)
		w.reply, w.err = s.settleAppend(ctx, w.e, w.cmd, w.d, results[i])
		w.d = decided{}
		if errors.Is(w.err, eventlog.ErrConflict) {
			if w.err = s.retryConflict(ctx, w.e, attempt); w.err == nil {
				retry = append(retry, w)
			}
		}
	}
	return retry
}
