package projector

import (
	"encoding/json"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector/views"
)

// Messages are stored as api.MessageView, the value of msg/<conv>/<seq>
// (views.MsgKey), with msgid/ naming the sequence of each message id: an
// unsent message is a tombstone there too (hist/ keeps what was sent).
// Texts and reactions are stored as views.Content: sealed as the event
// carries them, never opened here (views/erasure.go).

// sent adds a message. It does not look up whether the message id is taken:
// the aggregate refuses a message id its conversation already used, so the
// log never holds one twice, and the lookup (a miss in every Pebble level
// for every new message) was a fifth of the catch-up's CPU. Were a
// duplicate written to the stream past the service, msgid/ would name the
// newer message; hist/ keeps both.
func (t *tx) sent(d decoded, c *convState, x *events.MessageSentData) error {
	text := views.Content(x.Text, x.Sealed, d.event, d.seq)
	m, err := encodeNewMessage(x.MessageID, string(x.Sender), text, d.event.Time)
	if err != nil {
		return fmt.Errorf("encode message %s: %w", x.MessageID, err)
	}
	t.putSent(c, x.MessageID, d.seq, m)
	c.rec.Messages++
	c.rec.LastMessage = &views.LastMessageRecord{Seq: d.seq, MessageID: x.MessageID, Sender: x.Sender, Text: text}
	touch(c, d.event.Time)
	sender, err := t.account(x.Sender)
	if err != nil {
		return err
	}
	sender.MarkActive(d.event.Time)
	for _, p := range c.rec.Participants {
		if p != x.Sender {
			addUnread(&c.rec, p, 1)
		}
	}
	return nil
}

func (t *tx) edited(d decoded, c *convState, x *events.MessageEditedData) error {
	seq, m, ok, err := t.target(d, x.MessageID, true, "no such message, or it was unsent")
	if !ok {
		return err
	}
	m.Text, m.Edited = views.Content(x.Text, x.Sealed, d.event, d.seq), true
	if last := c.rec.LastMessage; last != nil && last.Seq == seq {
		last.Text = m.Text
	}
	touch(c, d.event.Time)
	return t.putMessageView(c, seq, m)
}

// unsent leaves a tombstone: the text and reactions leave the view (hist/
// keeps the original event), and the message stops counting as unread.
func (t *tx) unsent(d decoded, c *convState, x *events.MessageUnsentData) error {
	seq, m, ok, err := t.target(d, x.MessageID, true, "no such message, or it was already unsent")
	if !ok {
		return err
	}
	m.Unsent, m.Text, m.Reactions, m.Erased = true, "", nil, unsentErasure(d, x)
	if err := t.putMessageView(c, seq, m); err != nil {
		return err
	}
	if err := t.uncount(d.key, &c.rec, events.Account(m.Sender), seq); err != nil {
		return err
	}
	if last := c.rec.LastMessage; last != nil && last.Seq == seq {
		if c.rec.LastMessage, err = t.lastVisible(c); err != nil {
			return err
		}
		if err := t.markPreview(c); err != nil {
			return err
		}
	}
	touch(c, d.event.Time)
	return nil
}

func (t *tx) reacted(d decoded, c *convState, x *events.MessageReactedData) error {
	seq, m, ok, err := t.target(d, x.MessageID, true, "no such message, or it was unsent")
	if !ok {
		return err
	}
	if x.Reaction == "" && x.Sealed == "" {
		delete(m.Reactions, string(x.Account))
	} else {
		if m.Reactions == nil {
			m.Reactions = map[string]string{}
		}
		m.Reactions[string(x.Account)] = views.Content(x.Reaction, x.Sealed, d.event, d.seq)
	}
	if len(m.Reactions) == 0 {
		m.Reactions = nil
	}
	return t.putMessageView(c, seq, m)
}

// target loads the message an edit, unsend, reaction or read receipt
// names. ok is false when that failed (err) or the event does not fit:
// the conversation never had the message or, if live, it was unsent; the
// event is then skipped with why.
func (t *tx) target(d decoded, id string, live bool, why string) (seq uint64, m *api.MessageView, ok bool, err error) {
	seq, m, found, err := t.message(d.key, id)
	if err == nil && (!found || live && m.Unsent) {
		t.skip(d, why)
		found = false
	}
	return seq, m, found && err == nil, err
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
		return seq, m, true, views.DecodeMessageRecord(rec, m)
	}
	found, err = views.GetJSON(t.db, views.MsgKey(conv, seq), m)
	return seq, m, found, err
}

// putMessage writes rec, the msg/ record of the message of c sent at seq.
func (t *tx) putMessage(c *convState, seq uint64, rec []byte) {
	t.own.add(sentMessage{c: c, seq: seq, rec: rec})
	t.hold(heldMsg, heldWrite{c: c, seq: seq, value: rec})
}

// putSent writes the msg/ and msgid/ entries of a message c just sent.
func (t *tx) putSent(c *convState, id string, seq uint64, rec []byte) {
	t.own.add(sentMessage{c: c, id: id, seq: seq, rec: rec})
	t.hold(heldMsg, heldWrite{c: c, seq: seq, value: rec})
	t.hold(heldMsgID, heldWrite{c: c, text: id, seq: seq})
}

// putMessageView writes a changed message.
func (t *tx) putMessageView(c *convState, seq uint64, m *api.MessageView) error {
	rec, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode message %s: %w", m.MessageID, err)
	}
	t.putMessage(c, seq, rec)
	return nil
}
