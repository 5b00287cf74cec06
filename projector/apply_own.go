package projector

import (
	"fmt"
	"slices"

	"github.com/crosstalk-dev/crosstalk/projector/views"

	"github.com/cockroachdb/pebble/v2"
	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// A tx writes to a plain Pebble batch, which cannot be read, and reads the
// committed views from the DB. Most of what it reads it never writes before
// flush (conversation and account records are held decoded), but an edit,
// an unsend, a reaction or a read receipt reads back messages, message ids
// and read markers that an earlier event of the same run may have written.
// ownWrites holds those. An indexed batch did it before, and keeping its
// skiplist for every key of a run (three per message) cost 10% of a
// catch-up's CPU, for reads that a run of messages never makes. For the
// same reason the messages are only listed as they are written, and put in
// maps when an event first reads one back (index).
type ownWrites struct {
	sent    []sentMessage                // written, not yet in ids and msgs
	ids     map[msgIDRef]uint64          // msgid/: the sequence a message was sent at
	msgs    map[msgRef][]byte            // msg/: a message's record as written
	markers map[readRef]views.ReadMarker // read/
}

// sentMessage is a msg/ record (and, with an id, its msgid/ entry) that
// a tx wrote.
type sentMessage struct {
	c   *convState
	id  string // "" for a changed message, whose msgid/ entry is not new
	seq uint64
	rec []byte
}

type msgIDRef struct{ conv, id string }

type msgRef struct {
	conv string
	seq  uint64
}

type readRef struct {
	conv string
	a    events.Account
}

// newOwnWrites lists the messages of a run of n events.
func newOwnWrites(n int) ownWrites {
	return ownWrites{sent: make([]sentMessage, 0, n)}
}

// index puts the messages written so far in the maps; it is called before
// anything is read back, and once it was, add puts them there at once.
func (o *ownWrites) index() *ownWrites {
	if o.msgs == nil {
		o.ids, o.msgs = map[msgIDRef]uint64{}, map[msgRef][]byte{}
		o.markers = map[readRef]views.ReadMarker{}
	}
	for _, m := range o.sent {
		if m.id != "" {
			o.ids[msgIDRef{m.c.id, m.id}] = m.seq
		}
		if i, found := slices.BinarySearch(m.c.msgs, m.seq); !found {
			m.c.msgs = slices.Insert(m.c.msgs, i, m.seq)
		}
		o.msgs[msgRef{m.c.id, m.seq}] = m.rec
	}
	o.sent = o.sent[:0]
	return o
}

// add lists a written message.
func (o *ownWrites) add(m sentMessage) {
	o.sent = append(o.sent, m)
	if o.msgs != nil {
		o.index()
	}
}

// putMessage writes rec, the msg/ record of the message of c sent at seq.
func (t *tx) putMessage(c *convState, seq uint64, rec []byte) error {
	t.own.add(sentMessage{c: c, seq: seq, rec: rec})
	t.hold(heldMsg, heldWrite{c: c, seq: seq, value: rec})
	return nil
}

// putSent writes the msg/ and msgid/ entries of a message c just sent.
func (t *tx) putSent(c *convState, id string, seq uint64, rec []byte) error {
	t.own.add(sentMessage{c: c, id: id, seq: seq, rec: rec})
	t.hold(heldMsg, heldWrite{c: c, seq: seq, value: rec})
	t.hold(heldMsgID, heldWrite{c: c, text: id, seq: seq})
	return nil
}

// putMessageView writes a changed message.
func (t *tx) putMessageView(c *convState, seq uint64, m *api.MessageView) error {
	rec, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode message %s: %w", m.MessageID, err)
	}
	return t.putMessage(c, seq, rec)
}

// message loads message id of conversation conv and the sequence it was
// sent at; found is false if the conversation never had it.
func (t *tx) message(conv, id string) (seq uint64, m *api.MessageView, found bool, err error) {
	own := t.own.index()
	seq, found = own.ids[msgIDRef{conv, id}]
	if !found {
		if seq, found, err = views.GetUint(t.db, views.MsgIDKey(conv, id)); err != nil || !found {
			return 0, nil, false, err
		}
	}
	m = new(api.MessageView)
	if rec, ok := own.msgs[msgRef{conv, seq}]; ok {
		return seq, m, true, decodeMessageRecord(rec, m)
	}
	found, err = views.GetJSON(t.db, views.MsgKey(conv, seq), m)
	return seq, m, found, err
}

func decodeMessageRecord(rec []byte, m *api.MessageView) error {
	if err := json.Unmarshal(rec, m); err != nil {
		return fmt.Errorf("decode message record: %w", err)
	}
	return nil
}

// marker returns a's read marker in conv, the zero marker if it has none.
func (t *tx) marker(conv string, a events.Account) (views.ReadMarker, error) {
	if mk, ok := t.own.index().markers[readRef{conv, a}]; ok {
		return mk, nil
	}
	var mk views.ReadMarker
	_, err := views.GetJSON(t.db, views.ReadKey(conv, a), &mk)
	return mk, err
}

// putMarker writes a's read marker in conv.
func (t *tx) putMarker(conv string, a events.Account, mk views.ReadMarker) error {
	t.own.index().markers[readRef{conv, a}] = mk
	return t.setJSON(views.ReadKey(conv, a), mk)
}

// rewritten reports whether the tx wrote the message of k, a key under
// prefix: the committed record is then stale.
func (t *tx) rewritten(conv string, prefix, k []byte) bool {
	seq, _ := views.ParseMsgSuffix(k[len(prefix):])
	_, ok := t.own.msgs[msgRef{conv, seq}]
	return ok
}

// countUnread counts the messages of c after seq that a has not sent and
// that were not unsent: those the tx wrote, and the committed ones it did
// not rewrite. Markers move to recent messages, so the scan is short.
func (t *tx) countUnread(c *convState, a events.Account, seq uint64) (uint64, error) {
	var n uint64
	count := func(rec []byte) error {
		var m api.MessageView
		if err := decodeMessageRecord(rec, &m); err != nil {
			return err
		}
		if m.Sender != string(a) && !m.Unsent {
			n++
		}
		return nil
	}
	conv := c.id
	t.own.index()
	i, _ := slices.BinarySearch(c.msgs, seq+1)
	for _, s := range c.msgs[i:] {
		if err := count(t.own.msgs[msgRef{conv, s}]); err != nil {
			return 0, err
		}
	}
	prefix := views.MsgPrefix(conv)
	err := views.Scan(t.db, prefix, views.MsgKey(conv, seq+1), func(k, v []byte) (bool, error) {
		if t.rewritten(conv, prefix, k) {
			return true, nil
		}
		return true, count(v)
	})
	return n, err
}

// lastVisible finds the newest message of c that was not unsent, the inbox
// preview once the previous one is unsent: the newest the tx wrote, unless
// a newer committed one that the tx did not rewrite is visible.
func (t *tx) lastVisible(c *convState) (*views.LastMessageRecord, error) {
	var last *views.LastMessageRecord
	var after uint64
	t.own.index()
	for i := len(c.msgs) - 1; i >= 0 && last == nil; i-- {
		var err error
		if last, err = visible(c.msgs[i], t.own.msgs[msgRef{c.id, c.msgs[i]}]); err != nil {
			return nil, err
		}
	}
	if last != nil {
		after = last.Seq
	}
	committed, err := t.lastVisibleCommitted(c.id, after)
	if committed != nil || err != nil {
		return committed, err
	}
	return last, nil
}

// lastVisibleCommitted finds the newest committed message of conv after
// seq `after` that was not unsent and that the tx did not rewrite.
func (t *tx) lastVisibleCommitted(conv string, after uint64) (*views.LastMessageRecord, error) {
	prefix := views.MsgPrefix(conv)
	it, err := t.db.NewIter(&pebble.IterOptions{LowerBound: views.MsgKey(conv, after+1), UpperBound: views.PrefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ok := it.Last(); ok; ok = it.Prev() {
		if t.rewritten(conv, prefix, it.Key()) {
			continue
		}
		seq, _ := views.ParseMsgSuffix(it.Key()[len(prefix):])
		if last, err := visible(seq, it.Value()); last != nil || err != nil {
			return last, err
		}
	}
	return nil, it.Error()
}

// visible returns the inbox preview of the message record rec, sent at
// seq, or nil if it was unsent.
func visible(seq uint64, rec []byte) (*views.LastMessageRecord, error) {
	var m api.MessageView
	if err := decodeMessageRecord(rec, &m); err != nil {
		return nil, err
	}
	if m.Unsent {
		return nil, nil
	}
	return &views.LastMessageRecord{Seq: seq, MessageID: m.MessageID, Sender: events.Account(m.Sender), Text: m.Text}, nil
}
