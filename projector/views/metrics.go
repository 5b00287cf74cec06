package views

import (
	"context"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Metrics returns Pebble's own figures for the store (sizes, compactions,
// read amplification, block cache), for the metrics endpoint; ErrClosed
// after Close.
func (q *Queries) Metrics() (*pebble.Metrics, error) {
	release, err := q.acquire()
	if err != nil {
		return nil, err
	}
	defer release()
	return q.db.Metrics(), nil
}

// Settle waits until Pebble's flushes and compactions have quieted down:
// none running and none started for settleQuiet. That is the shape a store
// reaches soon after a burst of writes stops (Pebble compacts a level only
// once it is over its target, so "no compaction owed" may never come). A
// read measured on a store just built in bulk otherwise measures the
// backlog the build left (overlapping L0 files, each consulted by every
// seek) rather than the store.
func (q *Queries) Settle(ctx context.Context) error {
	var last int64 = -1
	quietSince := time.Now()
	for {
		release, err := q.acquire()
		if err != nil {
			return err
		}
		m := q.db.Metrics()
		release()
		busy := m.Compact.NumInProgress > 0 || m.Flush.NumInProgress > 0
		if busy || m.Compact.Count != last {
			last, quietSince = m.Compact.Count, time.Now()
		} else if time.Since(quietSince) >= settleQuiet {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// settleQuiet is how long Settle wants Pebble idle.
const settleQuiet = time.Second
