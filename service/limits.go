package service

import (
	"errors"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/admission"
)

// ErrTooLarge reports a command whose event would not fit a NATS message.
var ErrTooLarge = errors.New("too large")

// ErrTooManyRequests is admission.ErrTooManyRequests: a request beyond
// its connection's share or its principal's limits (429).
var ErrTooManyRequests = admission.ErrTooManyRequests

// headroom is what an append leaves of a NATS message for its headers
// (Nats-Msg-Id, the expected sequence) and the protocol line.
const headroom = 1024

// fits refuses an event that would not fit a NATS message on this
// connection: JetStream would refuse its append, which the producer would
// see as an internal error, when the request itself is what is too big.
func (s *Service) fits(data []byte) error {
	if limit := s.nc.MaxPayload(); int64(len(data)+headroom) > limit {
		return fmt.Errorf("%w: the event would be %d bytes, and a NATS message here carries at most %d (max_payload), headers included",
			ErrTooLarge, len(data), limit)
	}
	return nil
}
