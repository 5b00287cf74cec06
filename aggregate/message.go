package aggregate

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

func (c *Conversation) decideSend(cmd SendMessage, p *Policy, now time.Time) (events.Event, error) {
	if err := c.writable(cmd.Meta, p); err != nil {
		return events.Event{}, err
	}
	if err := checkText(cmd.Text); err != nil {
		return events.Event{}, err
	}
	id := cmd.MessageID
	if id == "" {
		id = events.DerivedID(now, events.CommandKey(cmd.App, cmd.CommandID)+"\x00message")
	} else if err := checkID("message_id", id); err != nil {
		return events.Event{}, err
	}
	if _, dup := c.find(id); dup {
		return events.Event{}, fmt.Errorf("%w: message %s already exists in conversation %s", ErrMessageExists, id, c.ID)
	}
	return c.emit(events.MessageSent, cmd, p, now, events.MessageSentData{MessageID: id, Sender: cmd.Actor, Text: cmd.Text})
}

// own returns the actor's own, not unsent, message.
func (c *Conversation) own(m Meta, id string) (messageState, error) {
	msg, err := c.message(id)
	if err != nil {
		return messageState{}, err
	}
	if sender := c.sender(mustKey(id), msg); sender != m.Actor {
		return messageState{}, fmt.Errorf("%w: message %s was sent by %s; only its sender may change it", ErrNotSender, id, sender)
	}
	if msg.unsent {
		return messageState{}, fmt.Errorf("%w: message %s was unsent and can no longer change", ErrMessageUnsent, id)
	}
	return msg, nil
}

func (c *Conversation) decideEdit(cmd EditMessage, p *Policy, now time.Time) (events.Event, error) {
	if err := c.writable(cmd.Meta, p); err != nil {
		return events.Event{}, err
	}
	if err := checkText(cmd.Text); err != nil {
		return events.Event{}, err
	}
	if _, err := c.own(cmd.Meta, cmd.MessageID); err != nil {
		return events.Event{}, err
	}
	return c.emit(events.MessageEdited, cmd, p, now, events.MessageEditedData{MessageID: cmd.MessageID, Editor: cmd.Actor, Text: cmd.Text})
}

func (c *Conversation) decideUnsend(cmd UnsendMessage, p *Policy, now time.Time) (events.Event, error) {
	if err := c.writable(cmd.Meta, p); err != nil {
		return events.Event{}, err
	}
	if _, err := c.own(cmd.Meta, cmd.MessageID); err != nil {
		return events.Event{}, err
	}
	return c.emit(events.MessageUnsent, cmd, p, now, events.MessageUnsentData{MessageID: cmd.MessageID, By: cmd.Actor})
}

func (c *Conversation) decideReact(cmd ReactToMessage, p *Policy, now time.Time) (events.Event, error) {
	if err := c.writable(cmd.Meta, p); err != nil {
		return events.Event{}, err
	}
	if len(cmd.Reaction) > api.MaxReactionBytes || !utf8.ValidString(cmd.Reaction) {
		return events.Event{}, fmt.Errorf("%w: reaction must be valid UTF-8 of at most %d bytes", ErrInvalid, api.MaxReactionBytes)
	}
	msg, err := c.message(cmd.MessageID)
	if err != nil {
		return events.Event{}, err
	}
	if msg.unsent {
		return events.Event{}, fmt.Errorf("%w: message %s was unsent", ErrMessageUnsent, cmd.MessageID)
	}
	return c.emit(events.MessageReacted, cmd, p, now, events.MessageReactedData{MessageID: cmd.MessageID, Account: cmd.Actor, Reaction: cmd.Reaction})
}

// decideRead is the one command a closed conversation still accepts: reading
// is not writing, and read receipts are filtered at query time by policy.
func (c *Conversation) decideRead(cmd ReadMessage, p *Policy, now time.Time) (events.Event, error) {
	if err := c.member(cmd.Meta); err != nil {
		return events.Event{}, err
	}
	msg, err := c.message(cmd.MessageID)
	if err != nil {
		return events.Event{}, err
	}
	if at := c.readUpTo[cmd.Actor]; int(msg.index) <= at {
		return events.Event{}, fmt.Errorf("%w: %s has already read up to a later or the same message; read markers only move forward",
			ErrInvalid, cmd.Actor)
	}
	return c.emit(events.MessageRead, cmd, p, now, events.MessageReadData{MessageID: cmd.MessageID, Account: cmd.Actor})
}

func (c *Conversation) decideStartCall(cmd StartCall, p *Policy, now time.Time) (events.Event, error) {
	if err := c.member(cmd.Meta); err != nil {
		return events.Event{}, err
	}
	if err := c.open(); err != nil {
		return events.Event{}, err
	}
	if cmd.Media != "audio" && cmd.Media != "video" {
		return events.Event{}, fmt.Errorf("%w: media must be \"audio\" or \"video\", got %s", ErrInvalid, events.Quote(cmd.Media))
	}
	if !p.AllowsAmong(c.Apps, ActionCall) {
		return events.Event{}, fmt.Errorf("%w: %s does not let %v call each other", ErrCallNotAllowed, p.Describe(), c.Apps)
	}
	id := cmd.CallID
	if id == "" {
		id = events.DerivedID(now, events.CommandKey(cmd.App, cmd.CommandID)+"\x00call")
	} else if err := checkID("call_id", id); err != nil {
		return events.Event{}, err
	}
	if _, dup := c.calls[id]; dup {
		return events.Event{}, fmt.Errorf("%w: call %s already exists", ErrInvalid, id)
	}
	return c.emit(events.CallStarted, cmd, p, now, events.CallStartedData{CallID: id, By: cmd.Actor, Media: cmd.Media})
}

func (c *Conversation) decideEndCall(cmd EndCall, p *Policy, now time.Time) (events.Event, error) {
	if err := c.member(cmd.Meta); err != nil {
		return events.Event{}, err
	}
	if err := c.open(); err != nil {
		return events.Event{}, err
	}
	if err := checkID("call_id", cmd.CallID); err != nil {
		return events.Event{}, err
	}
	running, ok := c.calls[cmd.CallID]
	if !ok {
		return events.Event{}, fmt.Errorf("%w: no call %s in conversation %s", ErrCallNotFound, cmd.CallID, c.ID)
	}
	if !running {
		return events.Event{}, fmt.Errorf("%w: call %s has already ended", ErrInvalid, cmd.CallID)
	}
	return c.emit(events.CallEnded, cmd, p, now, events.CallEndedData{CallID: cmd.CallID, By: cmd.Actor})
}

// decideClose closes an open conversation that cl.Policy no longer lets
// send, or whose participants the policy can no longer reach because an
// opt-in was withdrawn. The reason is decided here, from the inputs.
func (c *Conversation) decideClose(cl Close, now time.Time) (events.Event, error) {
	if !c.Started {
		return events.Event{}, fmt.Errorf("%w: %s", ErrConversationNotFound, c.ID)
	}
	if c.Closed {
		return events.Event{}, fmt.Errorf("%w: conversation %s is already closed", ErrConversationClosed, c.ID)
	}
	reason := events.ClosedByPolicy
	if cl.Policy.AllowsAmong(c.Apps, ActionSend) {
		if cl.Policy.Reachable(c.Participants, cl.OptedIn) == nil {
			return events.Event{}, fmt.Errorf("%w: policy version %d still allows %v", ErrNotAffected, cl.Policy.VersionOf(), c.Apps)
		}
		reason = events.ClosedByOptOut
	}
	return c.Stream.next(events.ConversationClosed, c.ID, now, cl, cl.Policy.VersionOf(),
		events.ConversationClosedData{Reason: reason, PolicyVersion: cl.Policy.VersionOf()})
}
