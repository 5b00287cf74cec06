// Package policybook holds the published policies as the command side
// knows them: an immutable snapshot of every version, swapped atomically so
// that a command reads the policy in force without a lock; the leader read
// that makes sure a command is decided by the newest policy the log holds;
// and crosstalk.query.policy's report. The policy aggregate itself stays
// with the command path that appends to it; the book sees it only through
// Source.
package policybook

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
)

// Source is the command side's policy aggregate, which the book copies.
type Source interface {
	// CatchUp catches the policy aggregate up with the log, under the lock
	// that serializes its commands, and publishes it with Book.Publish.
	CatchUp(ctx context.Context) error
}

// Book is the published policies as the command side knows them. Build it
// with New; it implements closer.Policies.
type Book struct {
	snap   atomic.Pointer[snapshot]
	source Source
	leader Leader
	// readBound bounds one leader read (see lastSeq).
	readBound time.Duration
	reads     leaderReads
}

// snapshot is an immutable copy of the published policies.
type snapshot struct {
	versions []aggregate.Policy
	eventIDs map[uint64]string
	seq      uint64 // the stream sequence of the last policy event folded in
}

// New returns an empty book that catches up from source and learns the
// newest policy's sequence from leader, each read bounded by readBound.
func New(source Source, leader Leader, readBound time.Duration) *Book {
	b := &Book{source: source, leader: leader, readBound: readBound}
	b.snap.Store(&snapshot{eventIDs: map[uint64]string{}})
	return b
}

// Publish copies ps as the published policies. The caller holds the lock
// that serializes ps's commands, so the copy is consistent.
func (b *Book) Publish(ps *aggregate.Policies) {
	snap := &snapshot{
		versions: append([]aggregate.Policy(nil), ps.Versions...),
		eventIDs: make(map[uint64]string, len(ps.Versions)),
		seq:      ps.Position().LastSeq,
	}
	for _, p := range ps.Versions {
		snap.eventIDs[p.Version] = ps.EventID(p.Version)
	}
	b.snap.Store(snap)
}

// Refresh catches the book up with the log, so that policies published by
// another instance are seen here too.
func (b *Book) Refresh(ctx context.Context) error { return b.source.CatchUp(ctx) }

// At returns the policy in force at now (nil before any).
func (b *Book) At(now time.Time) *aggregate.Policy {
	ps := aggregate.Policies{Versions: b.snap.Load().versions}
	return ps.InForce(now)
}

// EventID returns the id of the event that published version v.
func (b *Book) EventID(v uint64) string { return b.snap.Load().eventIDs[v] }

// Versions returns every published version, oldest first. The slice is
// shared: the caller must not change it.
func (b *Book) Versions() []aggregate.Policy { return b.snap.Load().versions }

// VersionOf returns the version that the event eventID published, or
// fallback when no version was published by it: a retried publish is
// answered with the version its first append got.
func (b *Book) VersionOf(eventID string, fallback uint64) uint64 {
	for v, id := range b.snap.Load().eventIDs {
		if id == eventID {
			return v
		}
	}
	return fallback
}
