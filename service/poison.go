package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
)

// ErrOffChain reports a stored event that does not continue its subject's
// chain: its prevhash is not the hash of the subject's previous stored
// message, or its streamversion is not that message's position plus one.
// The command side skips such an event as poison (docs/reliability.md).
var ErrOffChain = errors.New("event off its subject's chain")

// fold folds the stored message m into e's aggregate, or skips it as
// poison: one message someone else published into an aggregate's subject
// must not make every later command on that aggregate fail. A skipped
// message still moves the position on (aggregate.Stream.Skip), so the next
// append expects the real last sequence and chains to the stored bytes.
func (s *Service) fold(ctx context.Context, e *entry, m events.Message) {
	pos := e.state.Position()
	r, err := nextEvent(pos, m)
	if err == nil {
		s.recallBy(ctx, e, r.Event)
		err = e.state.Evolve(r) // it refuses data that does not decode, before changing anything
	}
	if err != nil {
		pos.Skip(m.Seq, events.Hash(m.Data))
		if s.status.CommandPoisoned(m, err) {
			s.observer.CommandPoisoned()
		}
	}
}

// nextEvent decodes m as the next event of the aggregate at pos. It returns
// an error when m is poison to the command side: bytes that are not a
// crosstalk event, a type no aggregate folds, a type that belongs on another
// kind of subject, or an event off the chain.
func nextEvent(pos *aggregate.Stream, m events.Message) (events.Recorded, error) {
	r, err := events.Record(m.Seq, m.Data)
	if err != nil {
		return r, err
	}
	info, ok := events.Lookup(r.Event.Type)
	if !ok {
		return r, fmt.Errorf("%w: no aggregate folds type %s", events.ErrMalformedEvent, events.Quote(string(r.Event.Type)))
	}
	if kind, _ := events.ClassifySubject(m.Subject); kind != info.Subject {
		return r, fmt.Errorf("%w: %s does not belong on subject %q", events.ErrMalformedEvent, r.Event.Type, m.Subject)
	}
	if r.Event.PrevHash != pos.LastHash {
		return r, fmt.Errorf("%w: prevhash %s, want %q (the hash of seq %d)", ErrOffChain, events.Quote(r.Event.PrevHash), pos.LastHash, pos.LastSeq)
	}
	if r.Event.StreamVersion != pos.Version+1 {
		return r, fmt.Errorf("%w: streamversion %d, want %d", ErrOffChain, r.Event.StreamVersion, pos.Version+1)
	}
	return r, nil
}
