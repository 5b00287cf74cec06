package rpc

import (
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
)

// ReplyBuffer is a pooled buffer a handler writes a large reply into (an
// inbox page): the reply is published from it, and it returns to the pool
// once the publish has copied it. Handlers return a *ReplyBuffer as their
// result; the Host's encoding hands its bytes and Free to the reply.
type ReplyBuffer struct{ B []byte }

// replyBuffers reuses reply buffers: an inbox page is tens of kilobytes,
// allocated and zeroed afresh for every query otherwise.
var replyBuffers = sync.Pool{New: func() any { return &ReplyBuffer{B: make([]byte, 0, 16<<10)} }}

// maxPooledReply is the largest buffer returned to the pool; a larger one
// (a page of long texts) is left to the collector rather than kept.
const maxPooledReply = 256 << 10

// NewReplyBuffer returns an empty buffer from the pool.
func NewReplyBuffer() *ReplyBuffer { return replyBuffers.Get().(*ReplyBuffer) }

// Free returns r to the pool; r must not be used after.
func (r *ReplyBuffer) Free() {
	if cap(r.B) > maxPooledReply {
		return
	}
	r.B = r.B[:0]
	replyBuffers.Put(r)
}

// replyHeadroom is what a reply leaves of a NATS message for its headers
// (the node, the trace context, an error's) and the protocol line.
const replyHeadroom = 20 << 10

// PageBytes is how many bytes a page may take in a reply on nc: its
// max_payload less the headroom (docs/contract.md, "Pages").
func PageBytes(nc *nats.Conn) int {
	return max(int(nc.MaxPayload())-replyHeadroom, 1)
}

// ErrReplyTooLarge reports a reply that would not fit a NATS message.
var ErrReplyTooLarge = errors.New("reply too large")

// FitsReply refuses a reply that would not fit a NATS message on nc, so
// that the requester gets an error rather than a timeout.
func FitsReply(nc *nats.Conn, data []byte) error {
	if limit := nc.MaxPayload(); int64(len(data)+replyHeadroom) > limit {
		return fmt.Errorf("%w: %d bytes, and a NATS message here carries at most %d (max_payload), headers included",
			ErrReplyTooLarge, len(data), limit)
	}
	return nil
}
