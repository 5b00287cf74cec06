package service

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// ErrOffChain reports a stored event that does not continue its subject's
// chain: its prevhash is not the hash of the subject's previous stored
// message, or its streamversion is not that message's position plus one.
// The command side skips such an event as poison (docs/reliability.md).
var ErrOffChain = errors.New("event off its subject's chain")

// maxPoisonListed bounds the poisoned messages the command side lists in
// crosstalk.query.status; beyond it they are counted and logged only.
const maxPoisonListed = 1000

// fold folds the stored message m into e's aggregate, or skips it as
// poison: one message someone else published into an aggregate's subject
// must not make every later command on that aggregate fail. A skipped
// message still moves the position on (aggregate.Stream.Skip), so the next
// append expects the real last sequence and chains to the stored bytes.
func (s *Service) fold(e *entry, m events.Message) {
	pos := e.state.Position()
	r, err := nextEvent(pos, m)
	if err == nil {
		err = e.state.Evolve(r) // it refuses data that does not decode, before changing anything
	}
	if err != nil {
		pos.Skip(m.Seq, events.Hash(m.Data))
		if s.poison.add(s.opts.Logger, m, err) {
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

// poisonBook is what the command side skipped: each poisoned message once,
// by sequence, however often its aggregate is loaded again.
type poisonBook struct {
	mu     sync.Mutex
	seen   map[uint64]bool
	listed []api.Poisoned // the first maxPoisonListed, in the order found
	total  int
}

// add records m as poison, and logs it at error the first time, when it
// returns true.
func (b *poisonBook) add(logger *slog.Logger, m events.Message, cause error) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[m.Seq] {
		return false
	}
	if b.seen == nil {
		b.seen = make(map[uint64]bool)
	}
	b.seen[m.Seq] = true
	b.total++
	if len(b.listed) < maxPoisonListed {
		b.listed = append(b.listed, api.Poisoned{Seq: m.Seq, Subject: m.Subject, Error: cause.Error(), Side: api.SideCommands})
	}
	logger.Error("command side skips a poisoned message in an aggregate's history",
		slog.Uint64("seq", m.Seq), slog.String("subject", m.Subject), slog.String("error", cause.Error()),
		slog.Int("poisoned_total", b.total))
	return true
}

// list returns the poisoned messages listed so far and how many were found.
func (b *poisonBook) list() ([]api.Poisoned, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]api.Poisoned(nil), b.listed...), b.total
}
