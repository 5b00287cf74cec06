package projector

import (
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/projector/views"

	"github.com/crosstalk-dev/crosstalk/events"
)

// applyConversation folds one conversation event into the views. Events
// come from the log, which is the truth: what the aggregate would have
// refused never reaches here, and what still does not fit (an unknown
// message id) is logged and left in hist/ only.
func (t *tx) applyConversation(d decoded) error {
	c, err := t.conv(d.key)
	if err != nil {
		return err
	}
	t.hold(heldHist, heldWrite{c: c, text: d.subject, seq: d.seq, value: d.stored})
	if start, ok := d.data.(*events.ConversationStartedData); ok && !c.exists {
		return t.started(d, c, start)
	}
	if !c.exists {
		t.skip(d, "the conversation was never started")
		return nil
	}
	c.rec.Version++ // every event on the subject counts, as in the aggregate
	c.rec.LastSeq, c.last = d.seq, d.stored
	switch x := d.data.(type) {
	case *events.ConversationStartedData:
		t.skip(d, "the conversation was already started")
	case *events.MessageSentData:
		return t.sent(d, c, x)
	case *events.MessageEditedData:
		return t.edited(d, c, x)
	case *events.MessageUnsentData:
		return t.unsent(d, c, x)
	case *events.MessageReactedData:
		return t.reacted(d, c, x)
	case *events.MessageReadData:
		return t.read(d, c, x)
	case *events.ConversationClosedData:
		return t.closed(d, c, x)
	}
	// call.started and call.ended change no view but the version.
	return nil
}

func (t *tx) started(d decoded, c *convState, x *events.ConversationStartedData) error {
	apps := events.AppsOf(x.Participants)
	c.exists = true
	c.rec = views.ConvRecord{
		ID: d.key, Participants: x.Participants, Apps: apps,
		CrossApp: x.CrossApp || len(apps) > 1, Version: 1, LastSeq: d.seq, LastActivity: d.event.Time,
	}
	c.last = d.stored
	for _, p := range x.Participants {
		if _, err := t.account(p); err != nil {
			return err
		}
	}
	return t.setJSON(views.OpenKey(d.key), apps)
}

// touch moves the conversation's last activity. It never moves back, so a
// server clock that steps backwards cannot reorder an inbox into the past.
func touch(c *convState, at time.Time) {
	if at.After(c.rec.LastActivity) {
		c.rec.LastActivity = at
	}
}

// sent adds a message. It does not look up whether the message id is taken:
// the aggregate refuses a message id its conversation already used, so the
// log never holds one twice, and the lookup (a miss in every Pebble level
// for every new message) was a fifth of the catch-up's CPU. Were a
// duplicate written to the stream past the service, msgid/ would name the
// newer message; hist/ keeps both.
func (t *tx) sent(d decoded, c *convState, x *events.MessageSentData) error {
	m, err := encodeNewMessage(x.MessageID, string(x.Sender), x.Text, d.event.Time)
	if err != nil {
		return fmt.Errorf("encode message %s: %w", x.MessageID, err)
	}
	if err := t.putSent(c, x.MessageID, d.seq, m); err != nil {
		return err
	}
	c.rec.Messages++
	c.rec.LastMessage = &views.LastMessageRecord{Seq: d.seq, MessageID: x.MessageID, Sender: x.Sender, Text: x.Text}
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
	seq, m, found, err := t.message(d.key, x.MessageID)
	if err != nil || !found || m.Unsent {
		if err == nil {
			t.skip(d, "no such message, or it was unsent")
		}
		return err
	}
	m.Text, m.Edited = x.Text, true
	if last := c.rec.LastMessage; last != nil && last.Seq == seq {
		last.Text = x.Text
	}
	touch(c, d.event.Time)
	return t.putMessageView(c, seq, m)
}

// unsent leaves a tombstone: the text and reactions leave the view (hist/
// keeps the original event), and the message stops counting as unread.
func (t *tx) unsent(d decoded, c *convState, x *events.MessageUnsentData) error {
	seq, m, found, err := t.message(d.key, x.MessageID)
	if err != nil || !found || m.Unsent {
		if err == nil {
			t.skip(d, "no such message, or it was already unsent")
		}
		return err
	}
	m.Unsent, m.Text, m.Reactions = true, "", nil
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
	}
	touch(c, d.event.Time)
	return nil
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

func (t *tx) reacted(d decoded, c *convState, x *events.MessageReactedData) error {
	seq, m, found, err := t.message(d.key, x.MessageID)
	if err != nil || !found || m.Unsent {
		if err == nil {
			t.skip(d, "no such message, or it was unsent")
		}
		return err
	}
	if x.Reaction == "" {
		delete(m.Reactions, string(x.Account))
	} else {
		if m.Reactions == nil {
			m.Reactions = map[string]string{}
		}
		m.Reactions[string(x.Account)] = x.Reaction
	}
	if len(m.Reactions) == 0 {
		m.Reactions = nil
	}
	return t.putMessageView(c, seq, m)
}

// read moves the account's read marker forward and recounts its unread
// messages: those after the marker, from others, not unsent.
func (t *tx) read(d decoded, c *convState, x *events.MessageReadData) error {
	seq, _, found, err := t.message(d.key, x.MessageID)
	if err != nil || !found {
		if err == nil {
			t.skip(d, "no such message")
		}
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
	if err := t.putMarker(d.key, x.Account, mk); err != nil {
		return err
	}
	n, err := t.countUnread(c, x.Account, seq)
	setUnread(&c.rec, x.Account, n)
	return err
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

// closed makes the conversation read-only in the views. Nothing is deleted:
// messages, markers and history stay as they were; only open/ loses it, so
// the closer does not see it again.
func (t *tx) closed(d decoded, c *convState, x *events.ConversationClosedData) error {
	if c.rec.Closed {
		t.skip(d, "the conversation was already closed")
		return nil
	}
	c.rec.Closed, c.rec.CloseReason = true, x.Reason
	if err := t.b.Delete(views.OpenKey(d.key), nil); err != nil {
		return err
	}
	if x.Reason != events.ClosedByPolicy || x.PolicyVersion == 0 {
		return nil
	}
	c.rec.ClosedByPolicy = x.PolicyVersion
	return t.countClosed(x.PolicyVersion)
}

// countClosed counts a conversation closed by policy version v. The count
// is held by the tx and written once by flush: a policy closes thousands
// of conversations in a run, and a read of the counter (then through an
// indexed batch, which merged the batch with the DB) for each was 4% of
// applying them.
func (t *tx) countClosed(v uint64) error {
	n, ok := t.closedBy[v]
	if !ok {
		var err error
		if n, _, err = views.GetUint(t.db, views.PolicyClosedKey(v)); err != nil {
			return err
		}
	}
	t.closedBy[v] = n + 1
	return nil
}
