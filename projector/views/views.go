// Package views is the layout of the projector's Pebble store (its keys
// and records, built and parsed only here) and the queries that read it.
// The projector writes the views; this package only reads them, so the
// read model and the write path share the layout from one place.
//
// Visibility of activity status and read receipts is decided at query
// time from the policy in force at the caller's clock and the account's
// own settings (visibility.go), so a newly effective policy hides what it
// should without touching stored data.
package views

import (
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// Queries answers the read functions (Inbox, Messages, Presence,
// Conversation, Policies, ...) from the store's Pebble; they may be called
// concurrently with each other and with the projector's writes.
type Queries struct {
	db         *pebble.DB
	acquire    func() (release func(), err error)
	checkpoint func() uint64
}

// New returns the queries of db. acquire marks each use of db (it fails
// once the store is closed) and checkpoint is the store's last applied
// position, which History reads up to.
func New(db *pebble.DB, acquire func() (release func(), err error), checkpoint func() uint64) *Queries {
	return &Queries{db: db, acquire: acquire, checkpoint: checkpoint}
}

// Reader is what the views are read through: the DB (also by Apply, which
// holds what its run wrote itself; see ownWrites) or a snapshot for a
// consistent multi-key query.
type Reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// snapshot opens a consistent view for a query that reads several keys, so
// that it never mixes two applied batches. release closes it.
func (q *Queries) snapshot() (snap *pebble.Snapshot, release func(), err error) {
	done, err := q.acquire()
	if err != nil {
		return nil, nil, err
	}
	snap = q.db.NewSnapshot()
	return snap, func() { _ = snap.Close(); done() }, nil
}
