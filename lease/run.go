package lease

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// releaseTimeout bounds how long a clean stop waits to release a lease.
const releaseTimeout = 2 * time.Second

// Leases are one node's leases in the bucket. Build them with Open.
type Leases struct {
	kv   jetstream.KeyValue
	opts Options
}

// Open opens the leases bucket, creating it as o places it if missing. It
// refuses options Options.Validate refuses.
func Open(ctx context.Context, js jetstream.JetStream, o Options) (*Leases, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.EnsureDefaults()
	kv, err := ensureBucket(ctx, js, o)
	if err != nil {
		return nil, err
	}
	return &Leases{kv: kv, opts: o}, nil
}

// Node is the node id this node writes in the leases it holds.
func (ls *Leases) Node() string { return ls.opts.Node }

// Lease is the lease of the singleton name, as this node contends for it.
func (ls *Leases) Lease(name string) *Lease {
	return &Lease{ls: ls, name: name}
}

// Lease is one singleton's lease on one node. Run contends for it and runs
// the singleton while it is held; Held is the fence the singleton checks
// before each effect. Run it once at a time.
type Lease struct {
	ls   *Leases
	name string
	// mu guards term and sent, which the renewer writes and Held reads.
	mu   sync.Mutex
	term uint64    // 0 when not held
	sent time.Time // when the last successful write was sent
	// since is when this node acquired the lease it holds.
	since time.Time
	// paused stops renewals (and the giving up they lead to), to play a
	// paused holder in tests (export_test.go).
	paused atomic.Bool
}

// Held says whether this node holds the lease now, and its term. It is
// false from the moment the renewer finds the lease lost, and also once
// TTL has passed on this node's clock since the last renewal was sent,
// whether or not the renewer has run since: a process that was paused
// stops trusting its lease before anything else runs.
func (l *Lease) Held() (term uint64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.term == 0 || time.Since(l.sent) >= l.ls.opts.TTL {
		return 0, false
	}
	return l.term, true
}

func (l *Lease) set(term uint64, sent time.Time) {
	l.mu.Lock()
	l.term, l.sent = term, sent
	l.mu.Unlock()
}

// Run contends for the lease until ctx is done. Each time it acquires it,
// it runs fn with a context that is cancelled when the lease is lost, waits
// for fn, and contends again. When ctx is done it cancels fn, waits for it
// and releases the lease, so that another node takes it at once. It returns
// fn's error, if fn fails while the lease is held, or nil.
func (l *Lease) Run(ctx context.Context, fn func(ctx context.Context) error) error {
	for {
		term, rev, err := l.acquire(ctx)
		if err != nil {
			return nil // ctx is done
		}
		err = l.hold(ctx, term, rev, fn)
		switch {
		case !errors.Is(err, errLost):
			return err
		case ctx.Err() != nil:
			return nil
		}
	}
}

// errLost ends hold when the lease was lost, so that Run contends again.
var errLost = errors.New("lease lost")

// hold runs fn while it renews the lease of term, now at revision rev. It
// cancels fn as soon as TTL has passed since the last renewal it sent, on
// this node's clock, before any contender can take the lease (a contender
// counts the TTL from when it saw that renewal, which is later).
func (l *Lease) hold(ctx context.Context, term, rev uint64, fn func(ctx context.Context) error) error {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(fctx) }()
	renew := time.NewTicker(l.ls.opts.renewEvery())
	defer renew.Stop()
	expire := time.NewTimer(l.untilExpiry())
	defer expire.Stop()
	for {
		var lost string
		select {
		case err := <-done:
			l.release(rev, term, "stopped")
			return err
		case <-ctx.Done():
			cancel()
			err := <-done
			l.release(rev, term, "shutdown")
			return err
		case <-expire.C:
			lost = l.expired()
		case <-renew.C:
			rev, lost = l.renew(ctx, rev, term)
		}
		if lost != "" {
			l.set(0, time.Time{})
			cancel()
			<-done
			l.ls.opts.Logger.Warn("lease lost", slog.String("lease", l.name), slog.Uint64("term", term),
				slog.String("reason", lost))
			return errLost
		}
		expire.Reset(max(l.untilExpiry(), time.Millisecond)) // paused: look again soon
	}
}

// untilExpiry is how long until the TTL since the last renewal sent ends.
func (l *Lease) untilExpiry() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Until(l.sent.Add(l.ls.opts.TTL))
}

// expired is why the lease is lost when its expiry timer fires, or "" if a
// renewal came first (or renewals are paused).
func (l *Lease) expired() string {
	if l.paused.Load() || l.untilExpiry() > 0 {
		return ""
	}
	return "not renewed for the TTL"
}

// renew writes the lease again at revision rev and returns the new
// revision, or why the lease is lost.
func (l *Lease) renew(ctx context.Context, rev, term uint64) (next uint64, lost string) {
	if l.paused.Load() {
		return rev, ""
	}
	sent := time.Now()
	next, err := l.write(ctx, rev, term)
	switch {
	case err == nil:
		l.set(term, sent)
		return next, ""
	case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return rev, "taken by another node"
	}
	l.ls.opts.Logger.Warn("lease: renew", slog.String("lease", l.name), slog.Uint64("term", term), slog.Any("err", err))
	return rev, l.expired()
}

// write updates the lease at revision rev with this node's value of term.
func (l *Lease) write(ctx context.Context, rev, term uint64) (uint64, error) {
	return l.ls.kv.Update(ctx, l.name, l.encode(term), rev)
}

func (l *Lease) encode(term uint64) []byte {
	b, _ := json.Marshal(value{Node: l.ls.opts.Node, Term: term, Since: l.since})
	return b
}

// release deletes the lease if it is still at revision rev, so that
// another node takes it at once; a lease taken meanwhile stays.
func (l *Lease) release(rev, term uint64, why string) {
	l.set(0, time.Time{})
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	err := l.ls.kv.Delete(ctx, l.name, jetstream.LastRevision(rev))
	l.ls.opts.Logger.Info("lease released", slog.String("lease", l.name), slog.Uint64("term", term),
		slog.String("why", why), slog.Any("err", err))
}
