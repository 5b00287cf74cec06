package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Sum is a checksum of the stream's history.
type Sum struct {
	// Hex is the sha256, lowercase hex.
	Hex string `json:"sum"`
	// Events is how many messages it covers.
	Events uint64 `json:"events"`
	// UntilSeq is the last stream sequence it covers (0 for an empty stream,
	// and for a partitioned log, whose LogSum.Streams say where each ends).
	UntilSeq uint64 `json:"until_seq"`
}

// Checksum returns one sha256 over the stream's messages with sequence 1 to
// untilSeq (0 means the stream's last sequence when Checksum starts). The
// same history always gives the same sum; any change to a covered message
// (its bytes, its subject, its position) or a removed message changes it,
// and messages appended after untilSeq do not.
//
// The format, for an auditor to recompute it with other tools: for each
// message in stream sequence order, the hash is fed
//
//	seq            8 bytes, unsigned big-endian
//	len(subject)   8 bytes, unsigned big-endian
//	subject        the stream subject, e.g. crosstalk.events.conv.<id>, as bytes
//	len(data)      8 bytes, unsigned big-endian
//	data           the message body exactly as stored (the event's JSON)
//
// and nothing else: no header, no separator, no trailer. The sum of an empty
// range is the sha256 of no bytes. Any client that can read the stream's
// messages by sequence (the JetStream get-message API, an ordered consumer)
// can recompute it without crosstalk.
//
// An untilSeq past the stream's last sequence is an error: a sum must never
// silently cover less than it claims. A partitioned log is summed by
// ChecksumStreams, which takes a sequence per stream: Checksum sums it with
// untilSeq 0 and refuses another.
func Checksum(ctx context.Context, log Log, untilSeq uint64) (Sum, error) {
	if s, ok := partitions(log); ok {
		if untilSeq != 0 {
			return Sum{}, fmt.Errorf("checksum until seq %d: the log has %d streams (%v), each numbered on its own: "+
				"give a sequence per stream", untilSeq, len(s.StreamNames()), s.StreamNames())
		}
		sum, err := ChecksumStreams(ctx, log, nil)
		return sum.Sum, err
	}
	last, err := log.LastSeq(ctx)
	if err != nil {
		return Sum{}, fmt.Errorf("checksum: last sequence: %w", err)
	}
	if untilSeq == 0 {
		untilSeq = last
	}
	if untilSeq > last {
		return Sum{}, fmt.Errorf("checksum until seq %d: the stream ends at seq %d", untilSeq, last)
	}
	s := NewSummer()
	err = Walk(ctx, log, untilSeq, EachMessage(func(m events.Message) error {
		s.Add(m)
		return nil
	}))
	if err != nil {
		return Sum{}, fmt.Errorf("checksum until seq %d: %w", untilSeq, err)
	}
	sum := s.Sum()
	sum.UntilSeq = untilSeq // what was asked for and walked to, even if its message was removed
	return sum, nil
}

// Summer computes a Sum one message at a time, in the format of Checksum,
// for code that reads the history its own way: a replay sums what it
// applied, so that its sum can be compared with Checksum of the stream.
type Summer struct {
	h      hash.Hash
	buf    []byte
	events uint64
	last   uint64
}

// NewSummer returns a Summer of no messages.
func NewSummer() *Summer { return &Summer{h: sha256.New(), buf: make([]byte, 0, 24)} }

// Add feeds one message to the sum; messages must come in stream order.
func (s *Summer) Add(m events.Message) {
	s.buf = binary.BigEndian.AppendUint64(s.buf[:0], m.Seq)
	s.buf = binary.BigEndian.AppendUint64(s.buf, uint64(len(m.Subject)))
	s.h.Write(s.buf)
	s.h.Write([]byte(m.Subject))
	s.buf = binary.BigEndian.AppendUint64(s.buf[:0], uint64(len(m.Data)))
	s.h.Write(s.buf)
	s.h.Write(m.Data)
	s.events++
	s.last = m.Seq
}

// Sum is the sum of the messages added so far: UntilSeq is the last one's
// sequence, 0 when there was none.
func (s *Summer) Sum() Sum {
	return Sum{Hex: hex.EncodeToString(s.h.Sum(nil)), Events: s.events, UntilSeq: s.last}
}
