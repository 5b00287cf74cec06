package policybook

import (
	"context"
	"sync"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Leader is the log as Fresh reads it: the last sequence of a subject as
// the stream's leader knows it (eventlog.Log.LastSeqOn).
type Leader interface {
	LastSeqOn(ctx context.Context, subject string) (uint64, error)
}

// retry spaces the catch-ups of Fresh while the replica that answers them
// lags behind the leader.
const retry = 5 * time.Millisecond

// Fresh makes sure the policy this node decides with is the newest the
// log holds, so that a policy acknowledged before a command was sent
// decides it, whichever node published it: one leader read of the policy
// subject's last sequence (shared by the commands that need it at once:
// leaderReads) and, when the book is behind it, a catch-up. A catch-up
// reads with direct gets, which a lagging replica may answer, so it is
// repeated until it has reached what the leader said, or ctx ends. An
// intake wave (WithWave) pays it once. On failure nothing was decided:
// the caller reports the command unavailable, to be sent again.
func (b *Book) Fresh(ctx context.Context) error {
	if w, ok := ctx.Value(waveKey{}).(*wave); ok {
		w.once.Do(func() { w.err = b.newest(ctx) })
		return w.err
	}
	return b.newest(ctx)
}

// newest is Fresh's read and catch-up.
func (b *Book) newest(ctx context.Context) error {
	last, err := b.reads.last(ctx, b.lastSeq)
	for err == nil && b.snap.Load().seq < last {
		if err = b.Refresh(ctx); err != nil || b.snap.Load().seq >= last {
			break
		}
		select {
		case <-ctx.Done():
			err = context.Cause(ctx)
		case <-time.After(retry):
		}
	}
	return err
}

// lastSeq is the policy subject's last sequence as the stream's leader
// knows it. The read is shared by the commands waiting for it
// (leaderReads), so it is bounded on its own, as an append is, not by the
// context of the command that happened to start it.
func (b *Book) lastSeq() (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.readBound)
	defer cancel()
	return b.leader.LastSeqOn(ctx, events.PolicySubject)
}

// waveKey marks the context of an intake wave: its commands were all sent
// before the wave began, so one Fresh, made when the first of them needs
// it, serves them all instead of one leader read per command in a row.
type waveKey struct{}

// wave is the one Fresh of a wave.
type wave struct {
	once sync.Once
	err  error
}

// WithWave returns ctx for an intake wave (waveKey).
func WithWave(ctx context.Context) context.Context {
	return context.WithValue(ctx, waveKey{}, &wave{})
}
