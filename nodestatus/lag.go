package nodestatus

import (
	"context"
	"errors"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Lag is how far the read model is behind the log: in events, and in
// seconds, the age of the oldest event it has not applied (0 when it has
// applied everything; on a partitioned log, the oldest of the first
// unapplied event of each stream). An error says the log could not be asked. A
// service without a read model is never behind.
func (r *Reporter) Lag(ctx context.Context) (behind uint64, seconds float64, err error) {
	last, err := r.src.LastSeq(ctx)
	if err != nil {
		return 0, 0, err
	}
	views := r.src.Views()
	if views == nil {
		return 0, 0, nil // no read model, nothing behind
	}
	cp := views.Checkpoint()
	if last <= cp {
		return 0, 0, nil
	}
	if p := r.src.Partitioned(); p != nil {
		return last - cp, r.oldestUnappliedAge(ctx, p, views), nil
	}
	m, err := r.src.Get(ctx, cp+1)
	if err != nil {
		return last - cp, 0, nil // the count is known; the age is not
	}
	return last - cp, r.ageOf(m), nil
}

// ageOf is the age of m's event by the service's clock, 0 for a body that
// is not an event or an event from the future.
func (r *Reporter) ageOf(m events.Message) float64 {
	ev, err := events.Decode(m.Data)
	if err != nil {
		return 0
	}
	return max(r.cfg.Now().Sub(ev.Time).Seconds(), 0)
}

// lagReadTimeout bounds the reads of oldestUnappliedAge: the messages are
// in their streams, so only an unreachable server makes them wait.
const lagReadTimeout = 2 * time.Second

// errFirstRead stops the read of a stream's first unapplied message.
var errFirstRead = errors.New("nodestatus: first unapplied message read")

// oldestUnappliedAge is the age, in seconds, of the oldest event the read
// model has not applied on a partitioned log: of each stream behind, its
// first unapplied message (checkpoint + 1), the oldest of them. The
// streams have no common order, so each is asked; a stream that cannot be
// read adds nothing, as Lag's age on the single stream does.
func (r *Reporter) oldestUnappliedAge(ctx context.Context, p Partitioned, views Views) float64 {
	lasts, err := p.LastSeqs(ctx)
	if err != nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, lagReadTimeout)
	defer cancel()
	cps := views.Checkpoints()
	var oldest float64
	for i := range min(len(lasts), len(cps)) {
		if lasts[i] <= cps[i] {
			continue
		}
		var first events.Message
		err := p.ReadStream(ctx, i, cps[i]+1, 1, func(b []events.Message) error {
			first = b[0]
			return errFirstRead
		})
		if errors.Is(err, errFirstRead) {
			oldest = max(oldest, r.ageOf(first))
		}
	}
	return oldest
}
