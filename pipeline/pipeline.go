// Package pipeline is crosstalk's one write path: every event is decided,
// appended to the log with the sequence its decision expects (optimistic
// concurrency: an append after another one on the same subject is refused),
// and settled, or decided again after a conflict. The command path, the
// durable intake's waves and the policy closer all write through it; what
// differs between them is the Job (what is decided, what a result means)
// and how many jobs are written together, which is the caller's choice:
// Write appends one, WriteAll appends a round of jobs on distinct subjects
// with one publish round and one batch signature.
//
// On a log that commits in groups (eventlog.Options.GroupCommit, `serve
// --sync-always`), the entries of Write and WriteAll may share one atomic
// batch with other callers' appends. A batch that one conflict or
// duplicate refuses is published again entry by entry by the log, so each
// job still settles with its own result, as without group commit.
//
// Signing and sealing are the log's (eventlog.Options.Signer signs what it
// appends; a batch is signed once), so a Job hands over the event's bytes
// and never a signature.
package pipeline

import (
	"context"
	"time"

	"github.com/crosstalk-dev/crosstalk/eventlog"
)

// Log is where a pipeline appends: *eventlog.Log.
type Log interface {
	// AppendAll appends entries on distinct subjects together.
	AppendAll(ctx context.Context, entries []eventlog.Entry) []eventlog.Result
}

// Appender is a Log that also appends one entry alone, publishing again
// while the stream has no leader, until ctx ends (*eventlog.Log does):
// Write uses it for its one entry.
type Appender interface {
	Append(ctx context.Context, subject string, expectedSeq uint64, msgID string, data []byte) (seq uint64, duplicate bool, err error)
}

// Job is one decision on one aggregate, written by a Pipeline. Its methods
// are called from one goroutine, one after the other; the caller holds
// whatever lock keeps the aggregate's state its own while it runs.
type Job interface {
	// Decide decides against the job's state and returns the entry to
	// append, or ok false when the job is answered without an append
	// (a refusal, a command the state says is decided already, an error).
	Decide(ctx context.Context) (e eventlog.Entry, ok bool)
	// Settle takes the append's result; attempt counts from 0. It
	// returns true when the job is to be decided and appended again: a
	// conflict it caught up from. A job gives up when it will (its retry
	// budget); the pipeline has none of its own.
	Settle(ctx context.Context, r eventlog.Result, attempt int) (again bool)
}

// Pipeline writes jobs to a Log.
type Pipeline struct {
	log      Log
	appended func(time.Duration)
}

// New returns a pipeline appending to log. appended, if not nil, is told
// each append's duration, once per entry (a round's entries share it).
func New(log Log, appended func(time.Duration)) *Pipeline {
	if appended == nil {
		appended = func(time.Duration) {}
	}
	return &Pipeline{log: log, appended: appended}
}

// Write decides, appends and settles j until it is settled for good.
func (p *Pipeline) Write(ctx context.Context, j Job) { p.writeFrom(ctx, j, 0) }

// writeFrom is Write from the attempt given.
func (p *Pipeline) writeFrom(ctx context.Context, j Job, attempt int) {
	for ; ; attempt++ {
		e, ok := j.Decide(ctx)
		if !ok {
			return
		}
		start := time.Now()
		r := p.appendOne(ctx, e)
		p.appended(time.Since(start))
		if !j.Settle(ctx, r, attempt) {
			return
		}
	}
}

// appendOne appends e alone.
func (p *Pipeline) appendOne(ctx context.Context, e eventlog.Entry) eventlog.Result {
	if a, ok := p.log.(Appender); ok {
		seq, dup, err := a.Append(ctx, e.Subject, e.ExpectedSeq, e.MsgID, e.Data)
		return eventlog.Result{Seq: seq, Duplicate: dup, Err: err}
	}
	return p.log.AppendAll(ctx, []eventlog.Entry{e})[0]
}

// WriteAll writes jobs on distinct subjects together, in rounds: each job
// of the round decides, the entries decided are appended with one
// AppendAll, each job settles with its result, and those that ask to go
// again make the next round, until none does.
func (p *Pipeline) WriteAll(ctx context.Context, jobs []Job) {
	for attempt := 0; len(jobs) > 0; attempt++ {
		jobs = p.round(ctx, jobs, attempt)
	}
}

// round writes one round of jobs and returns those to write again.
func (p *Pipeline) round(ctx context.Context, jobs []Job, attempt int) (again []Job) {
	entries := make([]eventlog.Entry, 0, len(jobs))
	pending := make([]Job, 0, len(jobs))
	for _, j := range jobs {
		if e, ok := j.Decide(ctx); ok {
			entries, pending = append(entries, e), append(pending, j)
		}
	}
	if len(entries) == 0 {
		return nil
	}
	start := time.Now()
	results := p.log.AppendAll(ctx, entries)
	elapsed := time.Since(start)
	for i, j := range pending {
		p.appended(elapsed)
		if j.Settle(ctx, results[i], attempt) {
			again = append(again, j)
		}
	}
	return again
}
