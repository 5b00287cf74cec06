package aggregate

import (
	"fmt"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Evolve folds one stored event of this conversation into its state. Events
// come from the log, which is the truth: Evolve records what happened and
// does not judge it.
func (c *Conversation) Evolve(r events.Recorded) error {
	actor, err := c.apply(r.Event, r.Seq)
	if err != nil {
		return fmt.Errorf("conversation %s at seq %d: %w", c.ID, r.Seq, err)
	}
	c.Stream.advance(r, actor.App())
	return nil
}

// apply folds e into c and returns the account that acted (none for a
// closing), whose app scopes e's command id.
func (c *Conversation) apply(e events.Event, seq uint64) (events.Account, error) {
	switch e.Type {
	case events.ConversationStarted:
		d, err := events.DataOf[events.ConversationStartedData](e)
		if err != nil {
			return "", err
		}
		c.Started, c.Participants, c.CrossApp = true, d.Participants, d.CrossApp
		c.Apps = events.AppsOf(d.Participants)
		return d.StartedBy, nil
	case events.MessageSent:
		d, err := events.DataOf[events.MessageSentData](e)
		if err != nil {
			return "", err
		}
		c.addMessage(d.MessageID, d.Sender, seq)
		return d.Sender, nil
	case events.MessageUnsent:
		d, err := events.DataOf[events.MessageUnsentData](e)
		if err != nil {
			return "", err
		}
		c.markUnsent(d.MessageID)
		return d.By, nil
	case events.MessageRead:
		return c.applyRead(e)
	case events.CallStarted, events.CallEnded:
		return c.applyCall(e)
	case events.ConversationClosed:
		d, err := events.DataOf[events.ConversationClosedData](e)
		if err != nil {
			return "", err
		}
		c.Closed, c.ClosedBy = true, d.PolicyVersion
		return "", nil
	case events.ContentExpired:
		return c.applyExpired(e)
	}
	// message.edited and message.reacted change views, not decisions:
	// only their actor is read.
	return actorOf(e)
}

// actorOf reads the acting account of an event apply does not otherwise
// decode.
func actorOf(e events.Event) (events.Account, error) {
	if p, ok := e.Payload.(events.Payload); ok {
		return events.Account(p.Actor()), nil
	}
	switch e.Type {
	case events.MessageEdited:
		d, err := events.DataOf[events.MessageEditedData](e)
		return d.Editor, err
	case events.MessageReacted:
		d, err := events.DataOf[events.MessageReactedData](e)
		return d.Account, err
	}
	return "", nil
}

func (c *Conversation) addMessage(id string, sender events.Account, seq uint64) {
	c.count++
	c.rememberRecord(MessageRecord{ID: id, Index: c.count, Sender: sender, SentSeq: seq})
}

func (c *Conversation) applyRead(e events.Event) (events.Account, error) {
	d, err := events.DataOf[events.MessageReadData](e)
	if err != nil {
		return "", err
	}
	m, ok := c.find(d.MessageID)
	if !ok {
		return d.Account, nil
	}
	if c.readUpTo == nil {
		c.readUpTo = make(map[events.Account]int)
	}
	if int(m.index) > c.readUpTo[d.Account] {
		c.readUpTo[d.Account] = int(m.index)
	}
	return d.Account, nil
}

func (c *Conversation) applyCall(e events.Event) (events.Account, error) {
	id, by, err := callOf(e)
	if err != nil {
		return "", err
	}
	c.setCall(id, e.Type == events.CallStarted)
	return by, nil
}

// callOf is the call_id and the acting account of a call.started or
// call.ended event. Stored call.started data is decoded as CallEndedData,
// which has the same call_id and by and ignores media, as it always has
// been.
func callOf(e events.Event) (id string, by events.Account, err error) {
	if d, ok := e.Payload.(events.CallStartedData); ok {
		return d.CallID, d.By, nil
	}
	d, err := events.DataOf[events.CallEndedData](e)
	return d.CallID, d.By, err
}
