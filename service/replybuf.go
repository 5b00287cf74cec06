package service

import "sync"

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
