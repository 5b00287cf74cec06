package service

import (
	"context"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/closer"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// A partitioned log (serve --partitions N > 1) has a sequence per stream:
// P0 … P{N-1}, then POLICY. The command path is unchanged (an append and a
// load name a subject, which the log routes); what compares positions
// takes one per stream: the read model follows every stream with a
// checkpoint each, and "the views have applied the log's end" means every
// stream's checkpoint has reached that stream's last sequence. Counts
// (lag, progress, status) are sums over the streams.

// PartitionedLog is what the service needs of a partitioned log beyond
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

// partitioned returns the log as a PartitionedLog when it has several
// partitions, else nil.
func (s *Service) partitioned() PartitionedLog {
	if p, ok := s.log.(PartitionedLog); ok && p.Partitions() > 1 {
		return p
	}
	return nil
}

// positions returns each stream's last sequence, in stream order: one for
// the single stream.
func (s *Service) positions(ctx context.Context) ([]uint64, error) {
	if p := s.partitioned(); p != nil {
		return p.LastSeqs(ctx)
	}
	last, err := s.log.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	return []uint64{last}, nil
}

// lastSeq is the log's last sequence; on a partitioned log the sum of its
// streams', a count for lag and progress only.
func (s *Service) lastSeq(ctx context.Context) (uint64, error) {
	seqs, err := s.positions(ctx)
	return sum(seqs), err
}

// follow applies the log into st until ctx is done: every stream of a
// partitioned log.
func (s *Service) follow(ctx context.Context, st *projector.Store) error {
	p := s.partitioned()
	if p == nil {
		return st.Run(ctx, s.log)
	}
	if have, want := len(st.Checkpoints()), len(p.StreamNames()); have != want {
		return fmt.Errorf("%w: the read model follows %d stream(s), the log has %d (open it with projector.Options.Streams %d)",
			projector.ErrStreams, have, want, want)
	}
	return st.RunStreams(ctx, p)
}

// get reads seq on subject's stream.
func (s *Service) get(ctx context.Context, subject string, seq uint64) (events.Message, error) {
	if p := s.partitioned(); p != nil {
		return p.GetOn(ctx, subject, seq)
	}
	return s.log.Get(ctx, seq)
}

// reached reports whether st has applied every stream up to seqs.
func reached(st *projector.Store, seqs []uint64) bool {
	cps := st.Checkpoints()
	for i, seq := range seqs {
		if i >= len(cps) || cps[i] < seq {
			return false
		}
	}
	return true
}

// refuseMinSeq refuses a query's min_seq on a partitioned log, whose
// positions are per stream: no single sequence says which writes a query
// must see.
func (s *Service) refuseMinSeq(seq uint64) error {
	if p := s.partitioned(); p != nil && seq != 0 {
		return badRequest("min_seq %d names a position of the single stream CROSSTALK; this log has %d partitions, "+
			"whose sequences are per stream, so one sequence cannot say which writes to wait for: give after, with the position "+
			"a command reply returned", seq, p.Partitions())
	}
	return nil
}

// streamStatus is each stream's line of Status on a partitioned log.
func (s *Service) streamStatus(ctx context.Context, views *projector.Store) ([]api.StreamStatus, error) {
	p := s.partitioned()
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

// closerLog and closerViews are the closer's ports on a partitioned log:
// its one-sequence wait (WaitFor) becomes "every stream's checkpoint has
// reached that stream's last sequence as of the call", which covers any
// sequence the closer holds (the log's last, an opt-out's), since each
// was appended before the call.
type closerLog struct{ s *Service }

// LastSeq is the sum of the streams' last sequences; closerViews.WaitFor
// does not compare with it.
func (l closerLog) LastSeq(ctx context.Context) (uint64, error) { return l.s.lastSeq(ctx) }

type closerViews struct {
	*projector.Store
	s *Service
}

// WaitFor waits until the views have applied every stream's end.
func (v closerViews) WaitFor(ctx context.Context, _ uint64) error {
	seqs, err := v.s.positions(ctx)
	if err != nil {
		return fmt.Errorf("the log's end, to wait for: %w", err)
	}
	return v.Store.WaitForAll(ctx, seqs)
}

var _ closer.Views = closerViews{}

// sum is the sum of seqs.
func sum(seqs []uint64) uint64 {
	var n uint64
	for _, s := range seqs {
		n += s
	}
	return n
}
