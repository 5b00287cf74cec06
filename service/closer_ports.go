package service

import (
	"context"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/closer"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/policybook"
)

// closerPorts is the service as the closer sees it: the command path for a
// closing (the policies in force are the book's). It is a type of its own
// so that these methods do not widen Service's exported API.
type closerPorts struct{ s *Service }

var (
	_ closer.Commands = closerPorts{}
	_ closer.Policies = (*policybook.Book)(nil)
)

// newCloser builds the closer on s's log, current views and command path,
// with the closer's settings from s's options.
func newCloser(s *Service) *closer.Closer {
	views := func() closer.Views { return s.model.Views() }
	var log closer.Log = s.log
	if s.model.Partitioned() != nil {
		views = func() closer.Views { return closerViews{s.model.Views(), s} }
		log = closerLog{s}
	}
	return closer.New(views, log, closerPorts{s}, s.book, closer.Options{
		Clock: s.opts.Clock, Logger: s.opts.Logger,
		CheckInterval: s.opts.PolicyCheckInterval, CloseGrace: s.opts.CloseGrace,
		CloseConcurrency: s.opts.CloseConcurrency, CloseRun: s.opts.CloseRun,
		Principal: s.closingPrincipal(), Holding: s.opts.CloserLease, Keys: closerKeys(s.opts.Keys),
	})
}

// ringKeys is the service's Keys as the closer's retention sweep sees
// them: Puncture alone.
type ringKeys struct{ k Keys }

// closerKeys is k for the closer, nil (no retention sweep) without k.
func closerKeys(k Keys) closer.Keys {
	if k == nil {
		return nil
	}
	return ringKeys{k}
}

// Puncture punctures the scope of what account wrote in conversation.
func (r ringKeys) Puncture(ctx context.Context, account, conversation string, lo, hi uint32) error {
	return r.k.Puncture(ctx, keyring.Scope{Account: account, Conversation: conversation}, lo, hi)
}

// Expire runs cmd through the command path like any command.
func (p closerPorts) Expire(ctx context.Context, id string, cmd aggregate.ExpireContent, msgID string) (bool, error) {
	subject := events.ConversationSubject(id)
	e := p.s.convs.get(subject, func() state { return aggregate.NewConversation(id) })
	r, err := p.s.execute(ctx, e, cmd, msgID)
	return err == nil && !r.Duplicate, err
}

// Close runs cmd through the command path like any command.
func (p closerPorts) Close(ctx context.Context, id string, cmd aggregate.Close, msgID string) (bool, error) {
	subject := events.ConversationSubject(id)
	e := p.s.convs.get(subject, func() state { return aggregate.NewConversation(id) })
	r, err := p.s.execute(ctx, e, cmd, msgID)
	return err == nil && !r.Duplicate, err
}

// OptIns reads the opt-ins from the account aggregates.
func (p closerPorts) OptIns(ctx context.Context, accounts []events.Account) (map[events.Account]bool, error) {
	return p.s.optIns(ctx, accounts)
}

// Forget drops the cached conversation at subject.
func (p closerPorts) Forget(subject string) { p.s.convs.forget(subject) }

// optIns reads each account's interoperability opt-in from its aggregate,
// the command side's truth (not the read model, which may lag).
func (s *Service) optIns(ctx context.Context, accounts []events.Account) (map[events.Account]bool, error) {
	out := make(map[events.Account]bool, len(accounts))
	for _, a := range accounts {
		e := s.accts.get(events.AccountSubject(a), func() state { return aggregate.NewAccount(a) })
		e.mu.Lock()
		var err error
		if !e.loaded {
			err = s.catchUp(ctx, e)
		}
		e.settle()
		out[a] = e.state.(*aggregate.Account).InteropOptIn
		e.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
