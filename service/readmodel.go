package service

import (
	"context"
	"fmt"
	"github.com/crosstalk-dev/crosstalk/codec"
	"strings"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/readmodel"
)

// The read model's lifecycle (the current store, its swap, the online
// rebuild, positions per stream and the waits) is package readmodel's;
// here are the service's ends of it: the rebuild's endpoint, the methods
// package node calls, and the query path's positions.

// Rebuilds is where crosstalk.admin.views.rebuild rebuilds the read model;
// package node implements it on its data directory.
type Rebuilds = readmodel.Rebuilds

// PartitionedLog is what the service needs of a partitioned log beyond
// Log; *eventlog.Log has it.
type PartitionedLog = readmodel.PartitionedLog

// streamStatus is each stream's line of Status on a partitioned log.
func (s *Service) streamStatus(ctx context.Context, views *projector.Store) ([]api.StreamStatus, error) {
	return s.model.StreamStatus(ctx, views)
}

// rebuildViews answers crosstalk.admin.views.rebuild, for admins only. It
// starts a rebuild, or joins the one running, and replies at once: the
// rebuild outlasts any request, so its progress is read from the status.
func (s *Service) rebuildViews(ctx context.Context, p identity.Principal, body []byte) (any, error) {
	if err := p.MayAdmin(); err != nil {
		return nil, err
	}
	var req api.RebuildViews
	if err := codec.Decode(body, &req); err != nil {
		return nil, err
	}
	if !s.hasViews() {
		return nil, fmt.Errorf("%w: node %s has the roles %s; ask crosstalk.admin.views.rebuild, or a node with the queries role",
			ErrNoViews, s.opts.NodeID, strings.Join(s.opts.Roles, ","))
	}
	r, err := s.model.StartRebuild(ctx)
	r.Node = s.opts.NodeID
	return r, err
}

// SwapViews replaces the read model with rebuilt, which may be empty or
// part-built, without stopping the queries (readmodel.Model.Swap). It
// returns the replaced store, which the caller closes.
func (s *Service) SwapViews(ctx context.Context, rebuilt *projector.Store) (*projector.Store, error) {
	return s.model.Swap(ctx, rebuilt)
}

// Views returns the read model the service answers from now: after a
// SwapViews, the new one.
func (s *Service) Views() *projector.Store { return s.model.Views() }

// RebuildProgress is the latest online rebuild of the read model, as
// crosstalk.query.status shows it; ok is false when none ran since start.
func (s *Service) RebuildProgress() (p api.RebuildProgress, ok bool) {
	if r := s.model.RebuildProgress(); r != nil {
		return *r, true
	}
	return api.RebuildProgress{}, false
}

// CaughtUpAtStart reports whether the read model has applied everything
// the stream held when Run started; false before Run. Readiness checks
// (/readyz) call it: until it holds, queries wait or answer not_caught_up.
func (s *Service) CaughtUpAtStart() bool { return s.model.CaughtUpAtStart() }

// replyAt is replyFor with the position of seq on subject's stream.
func (s *Service) replyAt(ev events.Event, subject string, seq uint64) api.CommandReply {
	r := codec.ReplyFor(ev, seq)
	if pos, ok := s.model.PositionOf(subject, seq); ok {
		r.Position = pos
	}
	return r
}

// checkQuery checks q: checkQuery's checks on the single stream; on a
// partitioned log its own fields, then its position (readmodel's
// CheckAfter).
func (s *Service) checkQuery(q query) error {
	if s.model.Partitioned() == nil {
		return checkQuery(q)
	}
	if err := q.check(); err != nil {
		return err
	}
	return s.model.CheckAfter(q.base().MinSeq, q.base().After)
}

// closerLog and closerViews are the closer's ports on a partitioned log:
// its one-sequence wait (WaitFor) becomes "every stream's checkpoint has
// reached that stream's last sequence as of the call"
// (readmodel.Model.WaitForEnd).
type closerLog struct{ s *Service }

// LastSeq is the sum of the streams' last sequences; closerViews.WaitFor
// does not compare with it.
func (l closerLog) LastSeq(ctx context.Context) (uint64, error) { return l.s.model.LastSeq(ctx) }

type closerViews struct {
	*projector.Store
	s *Service
}

// WaitFor waits until the views have applied every stream's end.
func (v closerViews) WaitFor(ctx context.Context, _ uint64) error {
	return v.s.model.WaitForEnd(ctx, v.Store)
}
