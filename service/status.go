package service

import (
	"context"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/nodestatus"
)

// Status reports the service's health (nodestatus.Reporter.Status).
func (s *Service) Status(ctx context.Context) (api.Status, error) { return s.status.Status(ctx) }

// Healthy returns nil while the service can accept writes, or why it
// cannot (nodestatus.Reporter.Healthy).
func (s *Service) Healthy() error { return s.status.Healthy() }

// Readiness returns nil while the service should take traffic, or the
// first reason it should not (nodestatus.Reporter.Readiness).
func (s *Service) Readiness(ctx context.Context, maxLag uint64) error {
	return s.status.Readiness(ctx, maxLag)
}

// Lag is how far the read model is behind the log, in events and in the
// age of the oldest event not applied (nodestatus.Reporter.Lag).
func (s *Service) Lag(ctx context.Context) (behind uint64, seconds float64, err error) {
	return s.status.Lag(ctx)
}

// queryStatus answers any authenticated principal: the service's health
// names no account.
func (s *Service) queryStatus(ctx context.Context, _ identity.Principal, body []byte) (any, error) {
	var q statusQuery
	return s.answer(ctx, body, &q, func() (any, error) { return s.Status(ctx) })
}

// statusQuery is the status query's request; answer does not hold it back
// while the views catch up after a restart.
type statusQuery struct{ emptyQuery }

// newReporter is the service's nodestatus.Reporter, once its options have
// their defaults.
func newReporter(s *Service) *nodestatus.Reporter {
	w, _ := s.log.(nodestatus.StreamWatcher)
	o := s.opts
	return nodestatus.New(nodestatus.Config{Conn: s.nc, Watcher: w, Now: o.Clock.Now, Logger: o.Logger,
		CheckInterval: o.PolicyCheckInterval, LagWarn: o.LagWarn, LagReportInterval: o.LagReportInterval,
		StallWarn: o.StallWarn, StreamCheckInterval: o.StreamCheckInterval}, statusSource{s})
}

// statusSource is the service as its Reporter reads it (nodestatus.Source):
// kept apart so that the Source's methods are no part of Service's own.
type statusSource struct{ s *Service }

func (a statusSource) LastSeq(ctx context.Context) (uint64, error) { return a.s.model.LastSeq(ctx) }

func (a statusSource) Get(ctx context.Context, seq uint64) (events.Message, error) {
	return a.s.log.Get(ctx, seq)
}

func (a statusSource) Projecting() bool      { return a.s.Projecting() }
func (a statusSource) CaughtUpAtStart() bool { return a.s.CaughtUpAtStart() }
func (a statusSource) StartSeq() uint64      { return a.s.model.StartSeq() }

// Views is nil, not a nil *projector.Store, on a node without a read model.
func (a statusSource) Views() nodestatus.Views {
	if v := a.s.model.Views(); v != nil {
		return v
	}
	return nil
}

// Partitioned is nil on the single stream: a nil PartitionedLog converts
// to a nil nodestatus.Partitioned.
func (a statusSource) Partitioned() nodestatus.Partitioned { return a.s.model.Partitioned() }

func (a statusSource) Streams(ctx context.Context) ([]api.StreamStatus, error) {
	return a.s.streamStatus(ctx, a.s.model.Views())
}

func (a statusSource) Counted() api.Status {
	s := a.s
	return api.Status{CachedConversations: s.convs.len(), CachedAccounts: s.accts.len(),
		InFlight: s.commands.InFlight() + s.queries.InFlight(), PolicyVersion: s.policyAt(s.opts.Clock.Now()).VersionOf(),
		Node: s.opts.NodeID, Roles: s.opts.Roles, Views: s.hasViews(),
		StartSeq: s.model.StartSeq(), CaughtUpAtStart: s.CaughtUpAtStart(), Rebuild: s.model.RebuildProgress()}
}
