package service

import (
	"context"
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/policybook"
)

// newPolicies is the policy entry's empty state: the aggregate itself, which
// decides like the others and records each version's event id.
func newPolicies() state { return &aggregate.Policies{} }

// policyAt returns the policy in force at now (nil before any).
func (s *Service) policyAt(now time.Time) *aggregate.Policy { return s.book.At(now) }

// policySource is the policy entry as the book sees it (policybook.Source).
type policySource struct{ s *Service }

// CatchUp catches the policy aggregate up with the log and publishes it to
// the book, under the entry's lock.
func (p policySource) CatchUp(ctx context.Context) error {
	p.s.policy.mu.Lock()
	defer p.s.policy.mu.Unlock()
	if err := p.s.catchUp(ctx, p.s.policy); err != nil {
		return err
	}
	p.s.book.Publish(p.s.policy.state.(*aggregate.Policies))
	return nil
}

// freshPolicy is policybook.Book.Fresh, its failures 503 unavailable:
// nothing was decided, so the command may be sent again (and the intake
// retries it). Only commands whose decision depends on the policy pay it
// (policybook.Decides, policybook.CrossApp).
func (s *Service) freshPolicy(ctx context.Context) error {
	if err := s.book.Fresh(ctx); err != nil {
		return fmt.Errorf("%w: this node could not learn the newest policy from the stream's leader: %v; "+
			"nothing was decided: retry it with the same command_id", ErrUnavailable, err)
	}
	return nil
}

// publishPolicy appends a policy.published event and wakes the scheduler;
// closing the affected conversations runs after the reply.
func (s *Service) publishPolicy(ctx context.Context, by identity.Principal, body []byte) (api.PublishReply, error) {
	id, p, err := policybook.DecodePublish(body)
	if err != nil {
		return api.PublishReply{}, err
	}
	cmd := aggregate.PublishPolicy{CommandID: id, Policy: p, Principal: by.String(), Trace: traceFrom(ctx)}
	r, err := s.execute(ctx, s.policy, cmd, id)
	if err != nil {
		return api.PublishReply{}, err
	}
	s.policy.mu.Lock()
	s.book.Publish(s.policy.state.(*aggregate.Policies))
	s.policy.mu.Unlock()
	s.closer.Kick()
	return api.PublishReply{EventID: r.EventID, StreamSeq: r.StreamSeq, Position: r.Position,
		Version: s.book.VersionOf(r.EventID, p.Version), Duplicate: r.Duplicate}, nil
}

type policyQuery struct{ api.PolicyQuery }

func (q *policyQuery) base() *api.QueryBase { return &q.QueryBase }

func (q *policyQuery) check() error {
	if err := checkLimit(q.Limit); err != nil {
		return err
	}
	return policybook.CheckQuery(q.PolicyQuery)
}

// queryPolicy answers any authenticated principal: policies are public.
func (s *Service) queryPolicy(ctx context.Context, _ identity.Principal, body []byte) (any, error) {
	var q policyQuery
	return s.answer(ctx, body, &q, func() (any, error) {
		return s.book.Page(q.PolicyQuery, s.opts.Clock.Now(), s.model.Views(), s.closer)
	})
}

// PolicyReport is crosstalk.query.policy's report of every version, without
// links, on one page (policybook.Book.Report).
func (s *Service) PolicyReport() (api.PolicyReport, error) {
	return s.book.Report(s.opts.Clock.Now(), s.model.Views(), s.closer)
}
