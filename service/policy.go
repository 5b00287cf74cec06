package service

import (
	"context"
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
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
	seq      uint64 // the stream sequence of the last policy event folded in
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
		seq:      ps.Position().LastSeq,
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

// freshPolicy makes sure the policy this node decides with is the newest
// the log holds, so that a policy acknowledged before a command was sent
// decides it, whichever node published it: one leader read of the policy
// subject's last sequence (eventlog.Log.LastSeqOn, shared by the commands
// that need it at once: leaderReads) and, when this node's policy
// aggregate is behind it, a catch-up. A catch-up reads with direct
// gets, which a lagging replica may answer, so it is repeated until it has
// reached what the leader said, or ctx ends. Only commands whose decision
// depends on the policy pay the read (policyDecides), and an intake wave
// pays it once (withWavePolicy).
func (s *Service) freshPolicy(ctx context.Context) error {
	if w, ok := ctx.Value(waveKey{}).(*wavePolicy); ok {
		w.once.Do(func() { w.err = s.newestPolicy(ctx) })
		return w.err
	}
	return s.newestPolicy(ctx)
}

// newestPolicy is freshPolicy's read and catch-up. Its failures are 503
// unavailable: nothing was decided, so the command may be sent again (and
// the intake retries it).
func (s *Service) newestPolicy(ctx context.Context) error {
	last, err := s.policyReads.last(ctx, s.lastPolicySeq)
	for err == nil && s.policies.Load().seq < last {
		if err = s.refreshPolicies(ctx); err != nil || s.policies.Load().seq >= last {
			break
		}
		select {
		case <-ctx.Done():
			err = context.Cause(ctx)
		case <-time.After(policyRetry):
		}
	}
	if err != nil {
		return fmt.Errorf("%w: this node could not learn the newest policy from the stream's leader: %v; "+
			"nothing was decided: retry it with the same command_id", ErrUnavailable, err)
	}
	return nil
}

// lastPolicySeq is the policy subject's last sequence as the stream's
// leader knows it. The read is shared by the commands waiting for it
// (leaderReads), so it is bounded on its own, as an append is, not by the
// context of the command that happened to start it.
func (s *Service) lastPolicySeq() (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.AppendTimeout)
	defer cancel()
	return s.log.LastSeqOn(ctx, events.PolicySubject)
}

// policyRetry spaces the catch-ups of freshPolicy while the replica that
// answers them lags behind the leader.
const policyRetry = 5 * time.Millisecond

// policyDecides reports whether the policy in force decides cmd, a command
// on e other than a start (conversationJob sees to a cross-app start): on
// a cross-app conversation every command that asks the policy (writable's:
// send, edit, unsend, react; call.start). A read marker, a call's end, an
// account's command and anything same-app never ask it, and so do not pay
// freshPolicy. The caller holds e.mu and e is loaded.
func policyDecides(e *entry, cmd aggregate.Command) bool {
	switch cmd.(type) {
	case aggregate.StartConversation, aggregate.ReadMessage, aggregate.EndCall, aggregate.Close:
		return false
	}
	c, ok := e.state.(*aggregate.Conversation)
	return ok && len(c.Apps) > 1
}

// crossApp reports whether actor and participants span more than one app.
func crossApp(actor events.Account, participants []events.Account) bool {
	for _, p := range participants {
		if p.App() != actor.App() {
			return true
		}
	}
	return false
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
