package service

import (
	"errors"
	"fmt"
	"sync"
)

// replyBuffer is a reply encoded already, in a buffer that respond gives
// back to replyBuffers once published: nats.go copies a message's data
// into its own write buffer, so the buffer is free as soon as PublishMsg
// returns. An inbox page is several kilobytes; growing a new buffer for
// each was 40% of the bytes the inbox query path allocated.
type replyBuffer struct{ b []byte }

// replyBuffers holds the buffers of replies already sent.
var replyBuffers = sync.Pool{New: func() any { return &replyBuffer{b: make([]byte, 0, 16<<10)} }}

// maxPooledReply is the largest buffer kept for reuse: a page of the
// largest size is kept, an outsized one left to the collector.
const maxPooledReply = 256 << 10

func newReplyBuffer() *replyBuffer { return replyBuffers.Get().(*replyBuffer) }

// free gives the buffer back for another reply.
func (r *replyBuffer) free() {
	if cap(r.b) > maxPooledReply {
		return
	}
	r.b = r.b[:0]
	replyBuffers.Put(r)
}

// replyHeadroom is what a reply leaves of a NATS message (max_payload
// counts headers and data together) for its headers: the trace context it
// echoes (a tracestate of the 32 members of up to 513 bytes that the W3C
// propagator keeps, 16.4 KB at most, and a traceparent), with a margin.
const replyHeadroom = 20 << 10

// pageBytes is how large a page of a paged query may be: what one reply
// on this connection carries, less the headroom for its headers. A page
// that would be larger ends early with a next_cursor.
func (s *Service) pageBytes() int {
	return max(int(s.nc.MaxPayload())-replyHeadroom, 1)
}

// errReplyTooLarge reports a reply that no NATS message here can carry:
// publishing it would fail and leave the requester waiting for nothing,
// so it is answered as an internal error instead. Pages are bounded so
// that only a max_payload below the contract's bound on an item
// (docs/contract.md, "Pages") meets it.
var errReplyTooLarge = errors.New("reply too large")

// fitsReply reports errReplyTooLarge for a reply that would not fit.
func (s *Service) fitsReply(data []byte) error {
	if limit := s.nc.MaxPayload(); int64(len(data)+replyHeadroom) > limit {
		return fmt.Errorf("%w: %d bytes, and a NATS message here carries at most %d (max_payload), headers included",
			errReplyTooLarge, len(data), limit)
	}
	return nil
}
