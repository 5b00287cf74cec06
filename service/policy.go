package service

import (
	"context"
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/identity"
)

// newPolicies is the policy entry's empty state: the aggregate itself, which
// decides like the others and records each version's event id.
func newPolicies() state { return &aggregate.Policies{} }

// policySnapshot is an immutable copy of the published policies, swapped
// atomically so that every command can read the policy in force without
// taking the policy aggregate's lock.
type policySnapshot struct {
	versions []aggregate.Policy
	eventIDs map[uint64]string
}

func (p *policySnapshot) inForce(now time.Time) *aggregate.Policy {
	ps := aggregate.Policies{Versions: p.versions}
	return ps.InForce(now)
}

// policyAt returns the policy in force at now (nil before any).
func (s *Service) policyAt(now time.Time) *aggregate.Policy {
	return s.policies.Load().inForce(now)
}

// snapshotPolicies publishes the policy aggregate's current versions. The
// caller holds the policy entry's lock.
func (s *Service) snapshotPolicies() {
	ps := s.policy.state.(*aggregate.Policies)
	snap := &policySnapshot{
		versions: append([]aggregate.Policy(nil), ps.Versions...),
		eventIDs: make(map[uint64]string, len(ps.Versions)),
	}
	for _, p := range ps.Versions {
		snap.eventIDs[p.Version] = ps.EventID(p.Version)
	}
	s.policies.Store(snap)
}

// refreshPolicies catches the policy aggregate up with the log, so policies
// published by another instance are seen here too.
func (s *Service) refreshPolicies(ctx context.Context) error {
	s.policy.mu.Lock()
	defer s.policy.mu.Unlock()
	if err := s.catchUp(ctx, s.policy); err != nil {
		return err
	}
	s.snapshotPolicies()
	return nil
}

// publishPolicy appends a policy.published event and wakes the scheduler;
// closing the affected conversations runs after the reply.
func (s *Service) publishPolicy(ctx context.Context, by identity.Principal, body []byte) (api.PublishReply, error) {
	var req api.PublishPolicy
	if err := decodeStrict(body, &req); err != nil {
		return api.PublishReply{}, err
	}
	if err := checkUUID("command_id", req.CommandID); err != nil {
		return api.PublishReply{}, err
	}
	if len(req.Policy) == 0 {
		return api.PublishReply{}, fmt.Errorf("%w: the request has no policy", aggregate.ErrInvalidPolicy)
	}
	p, err := aggregate.ParsePolicy(req.Policy)
	if err != nil {
		return api.PublishReply{}, err
	}
	cmd := aggregate.PublishPolicy{CommandID: req.CommandID, Policy: p, Principal: by.String(), Trace: traceFrom(ctx)}
	r, err := s.execute(ctx, s.policy, cmd, req.CommandID)
	if err != nil {
		return api.PublishReply{}, err
	}
	s.policy.mu.Lock()
	s.snapshotPolicies()
	s.policy.mu.Unlock()
	s.closer.Kick()
	pub := s.policies.Load()
	version := p.Version
	for v, id := range pub.eventIDs {
		if id == r.EventID {
			version = v
		}
	}
	return api.PublishReply{EventID: r.EventID, StreamSeq: r.StreamSeq, Position: r.Position, Version: version, Duplicate: r.Duplicate}, nil
}
