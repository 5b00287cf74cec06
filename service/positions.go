package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Positions on a partitioned log: a reply's position names one sequence
// per stream (P0 … P{N-1}, POLICY), its own stream's the event's and the
// others 0 ("nothing of that stream"); a query's after waits until the
// views have applied every sequence it names. min_seq, one sequence, says
// nothing there and is refused.

// replyAt is replyFor with the position of seq on subject's stream.
func (s *Service) replyAt(ev events.Event, subject string, seq uint64) api.CommandReply {
	r := replyFor(ev, seq)
	if p := s.partitioned(); p != nil {
		seqs := make([]uint64, len(p.StreamNames()))
		seqs[p.StreamIndexOf(subject)] = seq
		r.Position = api.PositionOf(seqs)
	}
	return r
}

// checkQuery checks q: checkQuery's checks on the single stream; on a
// partitioned log its own fields, then that min_seq is absent and after
// names one sequence per stream.
func (s *Service) checkQuery(q query) error {
	p := s.partitioned()
	if p == nil {
		return checkQuery(q)
	}
	if err := q.check(); err != nil {
		return err
	}
	b := q.base()
	if err := s.refuseMinSeq(b.MinSeq); err != nil {
		return err
	}
	seqs, err := b.After.Seqs()
	if err != nil {
		return badRequest("after: %v", err)
	}
	if names := p.StreamNames(); len(seqs) != 0 && len(seqs) != len(names) {
		return badRequest("after: %v %q: it names %d stream(s); this log has %d (%s): give a position a reply of this log returned",
			api.ErrBadPosition, b.After, len(seqs), len(names), strings.Join(names, ", "))
	}
	return nil
}

// afterTarget is what a query on a partitioned log waits for: its after
// and, but for the status query, until the views have caught up with the
// log as of the start, that too (the further of each). nil: nothing.
func (s *Service) afterTarget(q query) ([]uint64, error) {
	after, err := q.base().After.Seqs()
	if err != nil {
		return nil, err
	}
	if _, status := q.(*statusQuery); !status && !s.CaughtUpAtStart() {
		return maxEach(s.startSeqs, after), nil
	}
	return after, nil
}

// waitAfter is waitCaughtUp on a partitioned log: it waits up to ReadWait
// for afterTarget. A sequence beyond its stream's last is refused at once.
func (s *Service) waitAfter(ctx context.Context, q query) error {
	target, err := s.afterTarget(q)
	if err != nil {
		return badRequest("after: %v", err)
	}
	if reached(s.views(), target) {
		return nil
	}
	if lasts, err := s.positions(ctx); err == nil {
		for i, seq := range target {
			if i < len(lasts) && seq > lasts[i] {
				return badRequest("after names seq %d of stream %s, beyond its last sequence %d: no write has that position; "+
					"give a position a reply returned", seq, s.partitioned().StreamNames()[i], lasts[i])
			}
		}
	}
	wctx, cancel := context.WithTimeout(ctx, s.opts.ReadWait)
	defer cancel()
	if err := s.views().WaitForAll(wctx, target); err != nil {
		return fmt.Errorf("%w: the read model has applied up to %v of the streams, not yet %v; retry shortly",
			ErrNotCaughtUp, s.views().Checkpoints(), target)
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
