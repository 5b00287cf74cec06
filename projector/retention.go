package projector

import (
	"encoding/binary"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector/views"
)

// The retention index (views/retention.go): each message.sent adds its
// entry, each content.expired removes its conversation's entries up to its
// Through, so that the closer's retention sweep finds every message once.

// Due is a conversation with content a retention rule erases
// (views.Due): what the closer's retention sweep reads.
type Due = views.Due

// dueEntry is a retention entry this tx added: the committed views, which
// a content.expired of the same run scans, do not hold it yet.
type dueEntry struct {
	index uint32
	sent  uint64 // DueNanos
}

// dueIndex is a tx's part of the retention index: the entries it added,
// per conversation, and a buffer its keys are built in (the batch copies
// them).
type dueIndex struct {
	added map[string][]dueEntry
	buf   []byte
}

// indexRetention updates the retention index for an event of d's
// conversation that applyConversation applied (not skipped).
func (t *tx) indexRetention(d decoded) error {
	if t.skipped {
		return nil
	}
	switch x := d.data.(type) {
	case *events.MessageSentData:
		t.addDue(d, x)
	case *events.ContentExpiredData:
		return t.expireDue(d.key, x.Through)
	}
	return nil
}

// addDue indexes the message just sent: its index is the conversation's
// count of messages before it, as the aggregate numbers them.
func (t *tx) addDue(d decoded, x *events.MessageSentData) {
	c := t.convs[d.key]
	if c == nil || c.rec.Messages == 0 {
		return
	}
	e := dueEntry{index: uint32(c.rec.Messages - 1), sent: views.DueNanos(d.event.Time)}
	b := views.AppendDueKey(t.due.buf[:0], e.sent, d.key, e.index)
	n := len(b)
	b = append(b, x.Sender...)
	t.set(b[:n], b[n:])
	b = views.AppendDueConvKey(b[:0], d.key, e.index)
	n = len(b)
	b = binary.BigEndian.AppendUint64(b, e.sent)
	t.set(b[:n], b[n:])
	t.due.buf = b
	if t.due.added == nil {
		t.due.added = map[string][]dueEntry{}
	}
	t.due.added[d.key] = append(t.due.added[d.key], e)
}

// expireDue deletes conv's entries up to index through: those committed
// and those this run added.
func (t *tx) expireDue(conv string, through uint32) error {
	prefix := views.DueConvPrefix(conv)
	err := views.Scan(t.db, prefix, nil, func(k, v []byte) (bool, error) {
		due, index, err := views.DueKeyAt(k, v)
		if err != nil || index > through {
			return false, err
		}
		t.del(due)
		t.del(k)
		return true, nil
	})
	added := t.due.added[conv]
	kept := added[:0]
	for _, e := range added {
		if e.index > through {
			kept = append(kept, e)
			continue
		}
		t.del(views.DueKey(e.sent, conv, e.index))
		t.del(views.DueConvKey(conv, e.index))
	}
	if len(added) > 0 {
		t.due.added[conv] = kept
	}
	return err
}
