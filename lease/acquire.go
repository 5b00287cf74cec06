package lease

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// acquire contends until this node holds the lease, and returns its
// term and revision; or ctx's error once ctx is done. A missing (or released) lease
// is created; a held one is taken once its revision has not changed for
// the TTL on this node's clock, by an update at the revision seen, so that
// a renewal or another contender in between wins instead.
func (l *Lease) acquire(ctx context.Context) (term, rev uint64, err error) {
	var seen uint64
	var seenAt time.Time
	for {
		sent := time.Now()
		term, err := l.try(ctx, &seen, &seenAt)
		if err == nil && term != 0 {
			return term, l.acquired(ctx, term, sent), nil
		}
		if err != nil && ctx.Err() == nil && !errors.Is(err, jetstream.ErrKeyExists) &&
			!errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			l.ls.opts.Logger.Warn("lease: contend", slog.String("lease", l.name), slog.Any("err", err))
		}
		t := time.NewTimer(l.ls.opts.renewEvery())
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, 0, ctx.Err()
		case <-t.C:
		}
	}
}

// try makes one attempt: it returns the revision written, or 0 while the
// lease is another node's and not expired. seen and seenAt are the
// revision last seen and when it was first seen.
func (l *Lease) try(ctx context.Context, seen *uint64, seenAt *time.Time) (uint64, error) {
	l.since = time.Now().UTC().Truncate(time.Second)
	e, err := l.ls.kv.Get(ctx, l.name)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return l.ls.kv.Create(ctx, l.name, l.encode(0))
	case err != nil:
		return 0, err
	case l.mine(e):
		// This node restarted (kill -9, then serve again): nothing else
		// runs under its id, so it takes its lease back at once.
	case e.Revision() != *seen:
		*seen, *seenAt = e.Revision(), time.Now()
		return 0, nil
	case time.Since(*seenAt) < l.ls.opts.TTL:
		return 0, nil
	}
	return l.ls.kv.Update(ctx, l.name, l.encode(0), e.Revision())
}

// acquired records the lease acquired at revision rev, sent at sent, as
// held, writes its term in it at once (the value written to acquire it
// could not know its own revision), and logs it. It returns the lease's
// revision now.
func (l *Lease) acquired(ctx context.Context, rev uint64, sent time.Time) uint64 {
	l.set(rev, sent)
	l.ls.opts.Logger.Info("lease acquired", slog.String("lease", l.name), slog.String("node", l.ls.opts.Node),
		slog.Uint64("term", rev))
	sent = time.Now()
	if next, err := l.write(ctx, rev, rev); err == nil {
		l.set(rev, sent)
		return next
	}
	return rev // the first renewal finds out whether it is still held
}

// mine says whether e is a lease this node's id wrote: its previous run's,
// since a node runs once (its data directory is locked), as long as no two
// nodes are given one id.
func (l *Lease) mine(e jetstream.KeyValueEntry) bool {
	var v value
	return json.Unmarshal(e.Value(), &v) == nil && v.Node == l.ls.opts.Node
}
