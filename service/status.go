package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/identity"
)

// Status reports the service's health. Commands never wait for the read
// model, so a lagging projector shows here and in the logs, not as slower
// commands. Poisoned lists what the views skipped, then what the command
// side skipped; StreamProblem is Healthy's error. StartSeq and
// CaughtUpAtStart tell whether queries still wait after a restart, and
// Rebuild shows an online rebuild's progress. Node, Roles, Nodes and
// Leases say which node answered, which nodes it sees and who holds each
// singleton's lease.
func (s *Service) Status(ctx context.Context) (api.Status, error) {
	last, err := s.lastSeq(ctx)
	if err != nil {
		return api.Status{}, err
	}
	st := api.Status{
		StreamLastSeq: last, CachedConversations: s.convs.len(), CachedAccounts: s.accts.len(),
		InFlight: s.commands.InFlight() + s.queries.InFlight(), PolicyVersion: s.policyAt(s.opts.Clock.Now()).VersionOf(),
		Node: s.opts.NodeID, Roles: s.opts.Roles, Views: s.hasViews(),
	}
	st.StartSeq, st.CaughtUpAtStart, st.Rebuild = s.model.StartSeq(), s.CaughtUpAtStart(), s.model.RebuildProgress()
	if problem := s.Healthy(); problem != nil {
		st.StreamProblem = problem.Error()
	}
	if st.Nodes, err = s.nodes(ctx); err != nil {
		return st, err
	}
	if st.Leases, err = s.leases(ctx); err != nil {
		return st, err
	}
	st.Poisoned = []api.Poisoned{}
	if views := s.views(); views != nil {
		st.ViewsCheckpoint = views.Checkpoint()
		if st.Streams, err = s.streamStatus(ctx, views); err != nil {
			return st, err
		}
		st.Lag = last - min(last, st.ViewsCheckpoint)
		if st.Poisoned, err = views.Poisoned(); err != nil {
			return st, err
		}
	}
	commands, total := s.poison.list()
	st.Poisoned, st.PoisonedCommands = append(st.Poisoned, commands...), total
	return st, nil
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

// runLagReport checks the lag of the read model every PolicyCheckInterval
// until ctx is done; reportLag spaces the warnings themselves.
func (s *Service) runLagReport(ctx context.Context) error {
	t := time.NewTicker(s.opts.PolicyCheckInterval)
	defer t.Stop()
	for {
		s.reportLag(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// reportLag logs a warning, at most every LagReportInterval, while the read
// model is more than LagWarn events behind the log, or has stayed at one
// checkpoint for StallWarn while the log holds more.
func (s *Service) reportLag(ctx context.Context) {
	last, err := s.lastSeq(ctx)
	if err != nil {
		return
	}
	cp, now := s.views().Checkpoint(), time.Now()
	if cp != s.lagSeen.checkpoint || s.lagSeen.since.IsZero() {
		s.lagSeen.checkpoint, s.lagSeen.since = cp, now
	}
	if last <= cp || now.Sub(s.lagReported) < s.opts.LagReportInterval {
		return
	}
	stalled := now.Sub(s.lagSeen.since)
	msg := "read model behind the log"
	switch {
	case stalled >= s.opts.StallWarn:
		msg = "read model not following the log: its checkpoint has not moved for " + stalled.Round(time.Second).String()
	case last-cp <= uint64(s.opts.LagWarn):
		return
	}
	s.lagReported = now
	s.opts.Logger.Warn(msg, slog.Uint64("lag", last-cp), slog.Uint64("stream_last_seq", last),
		slog.Uint64("views_checkpoint", cp))
}
