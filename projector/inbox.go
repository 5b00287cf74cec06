package projector

import (
	"fmt"
	"slices"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector/views"
)

// An inbox item (inbox/<account>/<inverted activity>/<conv>) is what an
// account's inbox page shows of a conversation: its record's participants,
// state, last activity and preview (LastMessage), and the account's unread
// count. The events change the record; flush writes the items from it
// (writeInbox).

// touch moves the conversation's last activity. It never moves back, so a
// server clock that steps backwards cannot reorder an inbox into the past.
func touch(c *convState, at time.Time) {
	if at.After(c.rec.LastActivity) {
		c.rec.LastActivity = at
	}
}

// read moves the account's read marker forward and recounts its unread
// messages: those after the marker, from others, not unsent.
func (t *tx) read(d decoded, c *convState, x *events.MessageReadData) error {
	seq, _, ok, err := t.target(d, x.MessageID, false, "no such message")
	if !ok {
		return err
	}
	mk, err := t.marker(d.key, x.Account)
	if err != nil {
		return err
	}
	if mk.Seq >= seq {
		return nil // markers only move forward, as in the aggregate
	}
	mk = views.ReadMarker{MessageID: x.MessageID, Seq: seq, At: d.event.Time}
	t.putMarker(d.key, x.Account, mk)
	n, err := t.countUnread(c, x.Account, seq)
	setUnread(&c.rec, x.Account, n)
	return err
}

// uncount takes an unsent message at seq out of the unread count of every
// participant but its sender who had not read it yet.
func (t *tx) uncount(conv string, c *views.ConvRecord, sender events.Account, seq uint64) error {
	for _, p := range c.Participants {
		if p == sender {
			continue
		}
		mk, err := t.marker(conv, p)
		if err != nil {
			return err
		}
		if mk.Seq < seq {
			addUnread(c, p, -1)
		}
	}
	return nil
}

// addUnread moves a's unread counter in c by +1 or -1, never below 0.
func addUnread(c *views.ConvRecord, a events.Account, delta int) {
	n := c.Unread[a]
	switch {
	case delta > 0:
		n++
	case n > 0:
		n--
	}
	setUnread(c, a, n)
}

// setUnread sets a's unread counter in c; a zero is not stored.
func setUnread(c *views.ConvRecord, a events.Account, n uint64) {
	if n == 0 {
		delete(c.Unread, a)
		return
	}
	if c.Unread == nil {
		c.Unread = map[events.Account]uint64{}
	}
	c.Unread[a] = n
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
func (t *tx) putMarker(conv string, a events.Account, mk views.ReadMarker) {
	t.own.index().markers[readRef{conv, a}] = mk
	t.setJSON(views.ReadKey(conv, a), mk)
}

// countUnread counts the messages of c after seq that a has not sent and
// that were not unsent: those the tx wrote, and the committed ones it did
// not rewrite. Markers move to recent messages, so the scan is short.
func (t *tx) countUnread(c *convState, a events.Account, seq uint64) (uint64, error) {
	var n uint64
	count := func(rec []byte) error {
		var m api.MessageView
		if err := views.DecodeMessageRecord(rec, &m); err != nil {
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
		if sent, _ := views.ParseMsgSuffix(k[len(prefix):]); t.rewritten(conv, sent) {
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
		if last, err = views.Visible(c.msgs[i], t.own.msgs[msgRef{c.id, c.msgs[i]}]); err != nil {
			return nil, err
		}
	}
	if last != nil {
		after = last.Seq
	}
	committed, err := views.LastVisible(t.db, c.id, after, func(seq uint64) bool { return t.rewritten(c.id, seq) })
	if committed != nil || err != nil {
		return committed, err
	}
	return last, nil
}

// writeInbox writes each participant's inbox item, which holds what an
// inbox page shows, so that a page is one range scan. An item moves
// (delete, set) when the activity moved.
func (t *tx) writeInbox(id string, c *convState) error {
	moved := c.stored && !c.rec.LastActivity.Equal(c.activity)
	for _, p := range c.rec.Participants {
		if moved {
			t.del(views.InboxKey(p, views.InvertTime(c.activity), id))
		}
		item := views.NewInboxItem(id, &c.rec, c.rec.Unread[p])
		v, err := encodeInboxItem(&item)
		if err != nil {
			return fmt.Errorf("encode inbox item %s of %s: %w", id, p, err)
		}
		t.set(views.InboxKey(p, views.InvertTime(c.rec.LastActivity), id), v)
	}
	return nil
}
