package aggregate

import (
	"fmt"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Evolve folds one stored event of this conversation into its state. Events
// come from the log, which is the truth: Evolve records what happened and
// does not judge it.
func (c *Conversation) Evolve(r events.Recorded) error {
	if err := c.apply(r.Event); err != nil {
		return fmt.Errorf("conversation %s at seq %d: %w", c.ID, r.Seq, err)
	}
	c.Stream.advance(r)
	return nil
}

func (c *Conversation) apply(e events.Event) error {
	switch e.Type {
	case events.ConversationStarted:
		d, err := events.DataOf[events.ConversationStartedData](e)
		if err != nil {
			return err
		}
		c.Started, c.Participants, c.CrossApp = true, d.Participants, d.CrossApp
		c.Apps = events.AppsOf(d.Participants)
	case events.MessageSent:
		d, err := events.DataOf[events.MessageSentData](e)
		if err != nil {
			return err
		}
		c.addMessage(d.MessageID, d.Sender)
	case events.MessageUnsent:
		d, err := events.DataOf[events.MessageUnsentData](e)
		if err != nil {
			return err
		}
		if m, ok := c.messages[d.MessageID]; ok {
			m.unsent = true
		}
	case events.MessageRead:
		return c.applyRead(e)
	case events.CallStarted, events.CallEnded:
		return c.applyCall(e)
	case events.ConversationClosed:
		d, err := events.DataOf[events.ConversationClosedData](e)
		if err != nil {
			return err
		}
		c.Closed, c.ClosedBy = true, d.PolicyVersion
	}
	// message.edited and message.reacted change views, not decisions.
	return nil
}

func (c *Conversation) addMessage(id string, sender events.Account) {
	if c.messages == nil {
		c.messages = make(map[string]*messageState)
	}
	c.count++
	c.messages[id] = &messageState{index: c.count, sender: sender}
}

func (c *Conversation) applyRead(e events.Event) error {
	d, err := events.DataOf[events.MessageReadData](e)
	if err != nil {
		return err
	}
	m, ok := c.messages[d.MessageID]
	if !ok {
		return nil
	}
	if c.readUpTo == nil {
		c.readUpTo = make(map[events.Account]int)
	}
	if m.index > c.readUpTo[d.Account] {
		c.readUpTo[d.Account] = m.index
	}
	return nil
}

func (c *Conversation) applyCall(e events.Event) error {
	id, err := callID(e)
	if err != nil {
		return err
	}
	if c.calls == nil {
		c.calls = make(map[string]bool)
	}
	c.calls[id] = e.Type == events.CallStarted
	return nil
}

// callID is the call_id of a call.started or call.ended event. Stored
// call.started data is decoded as CallEndedData, which has the same call_id
// and ignores media, as it always has been.
func callID(e events.Event) (string, error) {
	if d, ok := e.Payload.(events.CallStartedData); ok {
		return d.CallID, nil
	}
	d, err := events.DataOf[events.CallEndedData](e)
	return d.CallID, err
}
