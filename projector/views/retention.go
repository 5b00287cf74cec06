package views

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
)

// The retention index: what a retention rule (policy content_retention_days,
// docs/erasure.md) will erase, by time. Its keys are built and parsed here
// rather than in keys.go, its own file, as is the rest of it.
//
//   - due/<sent time><conversation><message index> = the sender: every
//     message.sent not yet expired, oldest first, so that what is due is a
//     prefix of the table;
//   - dueconv/<conversation><message index> = the sent time: the same
//     entries by conversation, so that a content.expired finds the due/
//     keys it removes without scanning the table.
//
// Both are views of the events like the others, rebuilt by a replay and
// covered by Checksum.
const (
	tableDue     = "due/"
	tableDueConv = "dueconv/"
)

// Due is a conversation with content a retention rule erases: every
// message index up to Through inclusive, sealed in the scopes of Senders.
type Due struct {
	ConversationID string
	// Through is the largest index among the conversation's messages sent
	// before the cutoff that are not yet expired.
	Through uint32
	// Senders are the distinct senders of those messages, in the order
	// they first sent: the scopes whose leaves [0, Through] to puncture.
	Senders []string
}

// DueKey is the due/ entry of message index of conv, sent at sent
// nanoseconds since 1970 (DueNanos).
func DueKey(sent uint64, conv string, index uint32) []byte {
	return AppendDueKey(make([]byte, 0, len(tableDue)+8+textNum(conv)), sent, conv, index)
}

// AppendDueKey appends DueKey's key to dst: the projector builds its keys
// in one buffer, which the batch copies, rather than allocate each.
func AppendDueKey(dst []byte, sent uint64, conv string, index uint32) []byte {
	return key(append(dst, tableDue...)).num(sent).text(conv).num(uint64(index))
}

// DueConvKey is the dueconv/ entry of message index of conv.
func DueConvKey(conv string, index uint32) []byte {
	return AppendDueConvKey(make([]byte, 0, len(tableDueConv)+textNum(conv)), conv, index)
}

// AppendDueConvKey appends DueConvKey's key to dst.
func AppendDueConvKey(dst []byte, conv string, index uint32) []byte {
	return key(append(dst, tableDueConv...)).text(conv).num(uint64(index))
}

// DueConvPrefix is the prefix of conv's dueconv/ entries.
func DueConvPrefix(conv string) []byte { return sizedKey(tableDueConv, len(conv)+1).text(conv) }

// DueKeyAt is the due/ key of the dueconv/ entry k, whose value is v: the
// key a content.expired deletes with it.
func DueKeyAt(k, v []byte) ([]byte, uint32, error) {
	rest, ok := bytes.CutPrefix(k, []byte(tableDueConv))
	conv, rest, ok2 := cutText(rest)
	ns, ok3 := decodeUint(v)
	if !ok || !ok2 || !ok3 || len(rest) != 8 {
		return nil, 0, fmt.Errorf("malformed dueconv/ entry %q", k)
	}
	index := uint32(binary.BigEndian.Uint64(rest))
	return DueKey(ns, conv, index), index, nil
}

// DueNanos is the time of a due/ key, and the value of a dueconv/ entry
// (8 bytes big-endian): nanoseconds since 1970, times before it (never
// produced by the service clock) at 0.
func DueNanos(t time.Time) uint64 { return uint64(max(t.UnixNano(), 0)) }

// parseDueKey is the inverse of DueKey, less the time.
func parseDueKey(k []byte) (conv string, index uint32, ok bool) {
	rest, ok := bytes.CutPrefix(k, []byte(tableDue))
	if !ok || len(rest) < 8 {
		return "", 0, false
	}
	conv, rest, ok = cutText(rest[8:])
	if !ok || len(rest) != 8 {
		return "", 0, false
	}
	return conv, uint32(binary.BigEndian.Uint64(rest)), true
}

// DueForRetention returns, per conversation, the messages sent before
// before that no content.expired has covered yet: at most limit
// conversations (ClampLimit), those of the oldest messages first. The scan
// stops at the first message of a conversation beyond limit, so a
// conversation's Through may fall short of its last message due: what is
// left is due again once the expiry of this page is applied, which deletes
// the entries it covered. Each message is due until then, and never after.
func (q *Queries) DueForRetention(before time.Time, limit int) ([]Due, error) {
	snap, release, err := q.snapshot()
	if err != nil {
		return nil, err
	}
	defer release()
	limit = ClampLimit(limit)
	var out []Due
	at := map[string]int{}
	end := newKey(tableDue).num(DueNanos(before))
	err = Scan(snap, tablePrefix(tableDue), nil, func(k, v []byte) (bool, error) {
		if bytes.Compare(k, end) >= 0 {
			return false, nil
		}
		conv, index, ok := parseDueKey(k)
		if !ok {
			return false, fmt.Errorf("malformed due/ key %q", k)
		}
		i, seen := at[conv]
		if !seen && len(out) == limit {
			return false, nil
		}
		if !seen {
			i, at[conv] = len(out), len(out)
			out = append(out, Due{ConversationID: conv, Through: index})
		}
		out[i].add(index, string(v))
		return true, nil
	})
	return out, err
}

// add counts message index of sender in d.
func (d *Due) add(index uint32, sender string) {
	d.Through = max(d.Through, index)
	for _, s := range d.Senders {
		if s == sender {
			return
		}
	}
	d.Senders = append(d.Senders, sender)
}
