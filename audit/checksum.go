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
	// UntilSeq is the last stream sequence it covers (0 for an empty stream).
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
// silently cover less than it claims.
func Checksum(ctx context.Context, log Log, untilSeq uint64) (Sum, error) {
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
	h := sha256.New()
	var n uint64
	buf := make([]byte, 0, 24)
	err = walk(ctx, log, untilSeq, func(m events.Message) error {
		buf = writeMessage(h, buf, m)
		n++
		return nil
	})
	if err != nil {
		return Sum{}, fmt.Errorf("checksum until seq %d: %w", untilSeq, err)
	}
	return Sum{Hex: hex.EncodeToString(h.Sum(nil)), Events: n, UntilSeq: untilSeq}, nil
}

// writeMessage feeds one message to h in the format of Checksum. buf is
// scratch space, returned for reuse.
func writeMessage(h hash.Hash, buf []byte, m events.Message) []byte {
	buf = binary.BigEndian.AppendUint64(buf[:0], m.Seq)
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(m.Subject)))
	h.Write(buf)
	h.Write([]byte(m.Subject))
	buf = binary.BigEndian.AppendUint64(buf[:0], uint64(len(m.Data)))
	h.Write(buf)
	h.Write(m.Data)
	return buf
}
