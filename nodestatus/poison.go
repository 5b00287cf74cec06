package nodestatus

import (
	"log/slog"
	"sync"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// maxPoisonListed bounds the poisoned messages the command side lists in
// crosstalk.query.status; beyond it they are counted and logged only.
const maxPoisonListed = 1000

// poisonBook is what the command side skipped: each poisoned message once,
// by sequence, however often its aggregate is loaded again.
type poisonBook struct {
	mu     sync.Mutex
	seen   map[uint64]bool
	listed []api.Poisoned // the first maxPoisonListed, in the order found
	total  int
}

// CommandPoisoned records m, which the command side skipped as poison
// because of cause, for Status, and logs it at error the first time, when
// it returns true: an aggregate loaded again finds the same message again.
func (r *Reporter) CommandPoisoned(m events.Message, cause error) bool {
	return r.poison.add(r.cfg.Logger, m, cause)
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
