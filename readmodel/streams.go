package readmodel

import (
	"context"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// A partitioned log (serve --partitions N > 1) has a sequence per stream:
// P0 … P{N-1}, then POLICY. An append and a load name a subject, which the
// log routes; what compares positions takes one per stream: the read model
// follows every stream with a checkpoint each, and "the views have applied
// the log's end" means every stream's checkpoint has reached that stream's
// last sequence. Counts (lag, progress, status) are sums over the streams.

// PartitionedLog is what the read model needs of a partitioned log beyond
// Log; *eventlog.Log has it. A Log without it, or with one partition, is
// the single stream CROSSTALK.
type PartitionedLog interface {
	// Partitions is N, 1 for the single stream.
	Partitions() int
	// StreamNames names each stream, in stream order.
	StreamNames() []string
	// LastSeqs is each stream's last sequence, in stream order.
	LastSeqs(ctx context.Context) ([]uint64, error)
	// StreamIndexOf is the index of the stream that holds subject.
	StreamIndexOf(subject string) int
	// GetOn reads seq of the stream that holds subject.
	GetOn(ctx context.Context, subject string, seq uint64) (events.Message, error)
	projector.Streams
}

// Partitioned returns the log as a PartitionedLog when it has several
// partitions, else nil.
func (m *Model) Partitioned() PartitionedLog {
	if p, ok := m.log.(PartitionedLog); ok && p.Partitions() > 1 {
		return p
	}
	return nil
}

// Positions returns each stream's last sequence, in stream order: one for
// the single stream.
func (m *Model) Positions(ctx context.Context) ([]uint64, error) {
	if p := m.Partitioned(); p != nil {
		return p.LastSeqs(ctx)
	}
	last, err := m.log.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	return []uint64{last}, nil
}

// LastSeq is the log's last sequence; on a partitioned log the sum of its
// streams', a count for lag and progress only.
func (m *Model) LastSeq(ctx context.Context) (uint64, error) {
	seqs, err := m.Positions(ctx)
	return Sum(seqs), err
}

// Get reads seq on subject's stream.
func (m *Model) Get(ctx context.Context, subject string, seq uint64) (events.Message, error) {
	if p := m.Partitioned(); p != nil {
		return p.GetOn(ctx, subject, seq)
	}
	return m.log.Get(ctx, seq)
}

// PositionOf is the position of seq on subject's stream, one sequence per
// stream and the others 0 ("nothing of that stream"); ok is false on the
// single stream, whose replies keep the position of seq alone.
func (m *Model) PositionOf(subject string, seq uint64) (pos api.Position, ok bool) {
	p := m.Partitioned()
	if p == nil {
		return "", false
	}
	seqs := make([]uint64, len(p.StreamNames()))
	seqs[p.StreamIndexOf(subject)] = seq
	return api.PositionOf(seqs), true
}

// follow applies the log into st until ctx is done: every stream of a
// partitioned log.
func (m *Model) follow(ctx context.Context, st *projector.Store) error {
	p := m.Partitioned()
	if p == nil {
		return st.Run(ctx, m.log)
	}
	if have, want := len(st.Checkpoints()), len(p.StreamNames()); have != want {
		return fmt.Errorf("%w: the read model follows %d stream(s), the log has %d (open it with projector.Options.Streams %d)",
			projector.ErrStreams, have, want, want)
	}
	return st.RunStreams(ctx, p)
}

// StreamStatus is each stream's line of the status on a partitioned log,
// with views' checkpoints (views may be nil); nil on the single stream.
func (m *Model) StreamStatus(ctx context.Context, views *projector.Store) ([]api.StreamStatus, error) {
	p := m.Partitioned()
	if p == nil {
		return nil, nil
	}
	lasts, err := p.LastSeqs(ctx)
	if err != nil {
		return nil, err
	}
	var cps []uint64
	if views != nil {
		cps = views.Checkpoints()
	}
	out := make([]api.StreamStatus, len(lasts))
	for i, name := range p.StreamNames() {
		out[i] = api.StreamStatus{Name: name, LastSeq: lasts[i]}
		if i < len(cps) {
			out[i].Checkpoint, out[i].Lag = cps[i], lasts[i]-min(lasts[i], cps[i])
		}
	}
	return out, nil
}

// WaitForEnd waits until st has applied every stream's end as of the
// call: the closer's one-sequence wait on a partitioned log, which covers
// any sequence the closer holds (the log's last, an opt-out's), since each
// was appended before the call.
func (m *Model) WaitForEnd(ctx context.Context, st *projector.Store) error {
	seqs, err := m.Positions(ctx)
	if err != nil {
		return fmt.Errorf("the log's end, to wait for: %w", err)
	}
	return st.WaitForAll(ctx, seqs)
}

// Reached reports whether st has applied every stream up to seqs.
func Reached(st *projector.Store, seqs []uint64) bool {
	cps := st.Checkpoints()
	for i, seq := range seqs {
		if i >= len(cps) || cps[i] < seq {
			return false
		}
	}
	return true
}

// Sum is the sum of seqs.
func Sum(seqs []uint64) uint64 {
	var n uint64
	for _, s := range seqs {
		n += s
	}
	return n
}
