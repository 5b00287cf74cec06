package projector

import (
	"fmt"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector/views"
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
	case *events.ContentExpiredData:
		return t.contentExpired(d, c, x)
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
	t.setJSON(views.OpenKey(d.key), apps)
	return nil
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
	t.del(views.OpenKey(d.key))
	if x.Reason != events.ClosedByPolicy || x.PolicyVersion == 0 {
		return nil
	}
	c.rec.ClosedByPolicy = x.PolicyVersion
	return t.countClosed(x.PolicyVersion)
}

// flushConv writes a conversation's record, then its participants' inbox
// items (writeInbox).
func (t *tx) flushConv(id string, c *convState) error {
	if !c.exists {
		return nil
	}
	if c.last != nil {
		c.rec.LastHash, c.last = events.Hash(c.last), nil
	}
	rec, err := encodeConvRecord(&c.rec)
	if err != nil {
		return fmt.Errorf("encode conversation %s: %w", id, err)
	}
	t.set(views.ConvKey(id), rec)
	return t.writeInbox(id, c)
}
