package service

import (
	"context"
	"time"

	"github.com/crosstalk-dev/crosstalk/closer"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Observer receives the service's measurements as they happen; package
// metrics implements it. The service defines it so that it never imports
// a metrics library.
type Observer interface {
	// Answered is one request answered: kind is "command", "query" or
	// "admin", name its action or query, code "ok" or the contract's error
	// code, d the time from receipt to the reply.
	Answered(kind, name, code string, d time.Duration)
	// Appended is one append to the log that returned after d, err or not.
	Appended(d time.Duration)
	// Conflicted is one append refused by optimistic concurrency; retried
	// says the command was decided again rather than answered 409.
	Conflicted(retried bool)
	// CacheLookup is one lookup of an aggregate in the cache.
	CacheLookup(hit bool)
	// CommandPoisoned is one stream message the command side skipped.
	CommandPoisoned()
}

// noObserver is the Observer of a service given none.
type noObserver struct{}

func (noObserver) Answered(string, string, string, time.Duration) {}
func (noObserver) Appended(time.Duration)                         {}
func (noObserver) Conflicted(bool)                                {}
func (noObserver) CacheLookup(bool)                               {}
func (noObserver) CommandPoisoned()                               {}

// Lag is how far the read model is behind the log: in events, and in
// seconds, the age of the oldest event it has not applied (0 when it has
// applied everything; on a partitioned log, the oldest of the first
// unapplied event of each stream). An error says the log could not be asked. A
// service without a read model is never behind.
func (s *Service) Lag(ctx context.Context) (behind uint64, seconds float64, err error) {
	last, err := s.lastSeq(ctx)
	if err != nil {
		return 0, 0, err
	}
	if !s.hasViews() {
		return 0, 0, nil // no read model, nothing behind
	}
	cp := s.views().Checkpoint()
	if last <= cp {
		return 0, 0, nil
	}
	if p := s.partitioned(); p != nil {
		return last - cp, s.oldestUnappliedAge(ctx, p), nil
	}
	m, err := s.log.Get(ctx, cp+1)
	if err != nil {
		return last - cp, 0, nil // the count is known; the age is not
	}
	return last - cp, s.ageOf(m), nil
}

// ageOf is the age of m's event by the service's clock, 0 for a body that
// is not an event or an event from the future.
func (s *Service) ageOf(m events.Message) float64 {
	ev, err := events.Decode(m.Data)
	if err != nil {
		return 0
	}
	return max(s.opts.Clock.Now().Sub(ev.Time).Seconds(), 0)
}

// CachedAggregates reports how many conversations and accounts the command
// side holds in memory.
func (s *Service) CachedAggregates() (conversations, accounts int) {
	return s.convs.len(), s.accts.len()
}

// Projecting reports whether the projection loop is following the log.
func (s *Service) Projecting() bool { return s.model.Projecting() }

// ClosingProgress is the closer's progress with every policy version it
// has scanned for, a version superseded by a later effective one reported
// applied, as crosstalk.query.policy reports it.
func (s *Service) ClosingProgress() map[uint64]closer.Progress {
	all := s.closer.Versions()
	s.book.Superseded(all, s.opts.Clock.Now())
	return all
}
