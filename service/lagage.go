package service

import (
	"context"
	"errors"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// lagReadTimeout bounds the reads of oldestUnappliedAge: the messages are
// in their streams, so only an unreachable server makes them wait.
const lagReadTimeout = 2 * time.Second

// errFirstRead stops the read of a stream's first unapplied message.
var errFirstRead = errors.New("service: first unapplied message read")

// oldestUnappliedAge is the age, in seconds, of the oldest event the read
// model has not applied on a partitioned log: of each stream behind, its
// first unapplied message (checkpoint + 1), the oldest of them. The
// streams have no common order, so each is asked; a stream that cannot be
// read adds nothing, as Lag's age on the single stream does.
func (s *Service) oldestUnappliedAge(ctx context.Context, p PartitionedLog) float64 {
	lasts, err := p.LastSeqs(ctx)
	if err != nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, lagReadTimeout)
	defer cancel()
	cps := s.views().Checkpoints()
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
			oldest = max(oldest, s.ageOf(first))
		}
	}
	return oldest
}
