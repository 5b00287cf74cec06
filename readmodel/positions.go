package readmodel

import (
	"context"
	"fmt"
	"strings"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/codec"
)

// Wait waits up to ReadWait until the views may answer a query that gives
// minSeq (on the single stream, its after folded in) or, on a partitioned
// log, after. With holdForStart (every query but the status, which must
// answer while the views catch up, to show it) it also waits until the
// views have caught up with the log as of the start (CaughtUpAtStart):
// whichever is further, so a query waits at most ReadWait.
func (m *Model) Wait(ctx context.Context, minSeq uint64, after api.Position, holdForStart bool) error {
	if m.Partitioned() != nil {
		return m.waitAfter(ctx, after, holdForStart)
	}
	if holdForStart && minSeq <= m.StartSeq() && !m.CaughtUpAtStart() {
		return m.WaitStart(ctx)
	}
	return m.waitFor(ctx, minSeq)
}

// MustWait reports whether Wait would wait: the cases in which it returns
// at once can be answered without a wait.
func (m *Model) MustWait(minSeq uint64, after api.Position, holdForStart bool) bool {
	if m.Partitioned() != nil {
		target, _ := m.afterTarget(after, holdForStart)
		return !Reached(m.Views(), target)
	}
	if holdForStart && minSeq <= m.StartSeq() && !m.CaughtUpAtStart() {
		return true
	}
	return minSeq != 0 && m.Views().Checkpoint() < minSeq
}

// waitFor gives read-your-writes on the single stream: it waits up to
// ReadWait until the views have applied seq. A seq beyond the stream's
// last is refused at once: no write has that sequence yet, so waiting
// would only hold a slot for nothing.
func (m *Model) waitFor(ctx context.Context, seq uint64) error {
	if err := m.refuseMinSeq(seq); err != nil {
		return err
	}
	if seq == 0 || m.Views().Checkpoint() >= seq {
		return nil
	}
	if last, err := m.log.LastSeq(ctx); err == nil && seq > last {
		return codec.BadRequest("min_seq (or after) %d is beyond the stream's last sequence %d: no write has that sequence; "+
			"give a position (or stream_seq) a reply returned", seq, last)
	}
	wctx, cancel := context.WithTimeout(ctx, m.opts.ReadWait)
	defer cancel()
	if err := m.Views().WaitFor(wctx, seq); err != nil {
		return fmt.Errorf("%w: the read model has applied up to seq %d, not yet %d; retry shortly",
			ErrNotCaughtUp, m.Views().Checkpoint(), seq)
	}
	return nil
}

// Positions on a partitioned log: a reply's position names one sequence
// per stream (PositionOf); a query's after waits until the views have
// applied every sequence it names. min_seq, one sequence, says nothing
// there and is refused.

// refuseMinSeq refuses a query's min_seq on a partitioned log, whose
// positions are per stream: no single sequence says which writes a query
// must see.
func (m *Model) refuseMinSeq(seq uint64) error {
	if p := m.Partitioned(); p != nil && seq != 0 {
		return codec.BadRequest("min_seq %d names a position of the single stream CROSSTALK; this log has %d partitions, "+
			"whose sequences are per stream, so one sequence cannot say which writes to wait for: give after, with the position "+
			"a command reply returned", seq, p.Partitions())
	}
	return nil
}

// CheckAfter checks a query's position on a partitioned log: no min_seq,
// and an after that names one sequence per stream.
func (m *Model) CheckAfter(minSeq uint64, after api.Position) error {
	if err := m.refuseMinSeq(minSeq); err != nil {
		return err
	}
	seqs, err := after.Seqs()
	if err != nil {
		return codec.BadRequest("after: %v", err)
	}
	if names := m.Partitioned().StreamNames(); len(seqs) != 0 && len(seqs) != len(names) {
		return codec.BadRequest("after: %v %q: it names %d stream(s); this log has %d (%s): give a position a reply of this log returned",
			api.ErrBadPosition, after, len(seqs), len(names), strings.Join(names, ", "))
	}
	return nil
}

// afterTarget is what a query on a partitioned log waits for: its after
// and, when holdForStart and until the views have caught up with the log
// as of the start, that too (the further of each). nil: nothing.
func (m *Model) afterTarget(after api.Position, holdForStart bool) ([]uint64, error) {
	seqs, err := after.Seqs()
	if err != nil {
		return nil, err
	}
	if holdForStart && !m.CaughtUpAtStart() {
		return maxEach(m.start.seqs, seqs), nil
	}
	return seqs, nil
}

// waitAfter is Wait on a partitioned log: it waits up to ReadWait for
// afterTarget, one sequence per stream. A sequence beyond its stream's
// last is refused at once: no write has it yet.
func (m *Model) waitAfter(ctx context.Context, after api.Position, holdForStart bool) error {
	target, err := m.afterTarget(after, holdForStart)
	if err != nil {
		return codec.BadRequest("after: %v", err)
	}
	if Reached(m.Views(), target) {
		return nil
	}
	if lasts, err := m.Positions(ctx); err == nil {
		for i, seq := range target {
			if i < len(lasts) && seq > lasts[i] {
				return codec.BadRequest("after names seq %d of stream %s, beyond its last sequence %d: no write has that position; "+
					"give a position a reply returned", seq, m.Partitioned().StreamNames()[i], lasts[i])
			}
		}
	}
	wctx, cancel := context.WithTimeout(ctx, m.opts.ReadWait)
	defer cancel()
	if err := m.Views().WaitForAll(wctx, target); err != nil {
		return fmt.Errorf("%w: the read model has applied up to %v of the streams, not yet %v; retry shortly",
			ErrNotCaughtUp, m.Views().Checkpoints(), target)
	}
	return nil
}

// maxEach is the larger of a's and b's entry at each index; either may be
// shorter.
func maxEach(a, b []uint64) []uint64 {
	out := make([]uint64, max(len(a), len(b)))
	for i := range out {
		if i < len(a) {
			out[i] = a[i]
		}
		if i < len(b) {
			out[i] = max(out[i], b[i])
		}
	}
	return out
}
