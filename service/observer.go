package service

import (
	"time"

	"github.com/crosstalk-dev/crosstalk/closer"
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
