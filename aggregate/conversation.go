package aggregate

import (
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Conversation is the state of one conversation, folded from its events.
// The zero value with ID set is a conversation that does not exist yet.
type Conversation struct {
	ID           string
	Stream       Stream
	Started      bool
	Participants []events.Account
	Apps         []events.App
	CrossApp     bool
	Closed       bool
	ClosedBy     uint64                    // policy version that closed it, 0 if none
	messages     map[msgKey]messageState   // the recent ones (memory.go)
	recent       []msgKey                  // ids in messages, oldest first
	spill        map[msgKey]messageState   // left memory, not yet kept (SpillRecords)
	strangers    map[msgKey]events.Account // senders who are not participants: rare
	outside      bool                      // some messages live outside memory
	count        int
	readUpTo     map[events.Account]int
	calls        map[string]bool // call id -> still running
	expired      uint32          // message indices below it expired (content.expired)
	callOrder    []string        // ids in calls, oldest first
}

// NewConversation returns the empty state of conversation id.
func NewConversation(id string) *Conversation { return &Conversation{ID: id} }

// IsParticipant reports whether a takes part in the conversation.
func (c *Conversation) IsParticipant(a events.Account) bool {
	for _, p := range c.Participants {
		if p == a {
			return true
		}
	}
	return false
}

// Decide decides a conversation command against this state, the policy in
// force at now, and now. It returns the one event the command produces or a
// domain error; it changes nothing.
func (c *Conversation) Decide(cmd Command, p *Policy, now time.Time) (events.Event, error) {
	if start, ok := cmd.(StartConversation); ok {
		return c.decideStart(start, p, now)
	}
	if cl, ok := cmd.(Close); ok {
		return c.decideClose(cl, now)
	}
	if ex, ok := cmd.(ExpireContent); ok {
		return c.decideExpire(ex, now)
	}
	if !c.Started {
		return events.Event{}, fmt.Errorf("%w: %s", ErrConversationNotFound, c.ID)
	}
	switch cmd := cmd.(type) {
	case SendMessage:
		return c.decideSend(cmd, p, now)
	case EditMessage:
		return c.decideEdit(cmd, p, now)
	case UnsendMessage:
		return c.decideUnsend(cmd, p, now)
	case ReactToMessage:
		return c.decideReact(cmd, p, now)
	case ReadMessage:
		return c.decideRead(cmd, p, now)
	case StartCall:
		return c.decideStartCall(cmd, p, now)
	case EndCall:
		return c.decideEndCall(cmd, p, now)
	}
	return events.Event{}, fmt.Errorf("%w: %T is not a conversation command", ErrUnknownCommand, cmd)
}

func (c *Conversation) emit(t events.Type, cmd Command, p *Policy, now time.Time, data any) (events.Event, error) {
	return c.Stream.next(t, c.ID, now, cmd, p.VersionOf(), data)
}

func (c *Conversation) decideStart(cmd StartConversation, p *Policy, now time.Time) (events.Event, error) {
	if err := cmd.check(); err != nil {
		return events.Event{}, err
	}
	if c.Started {
		return events.Event{}, fmt.Errorf("%w: %s", ErrConversationExists, c.ID)
	}
	parts, err := participants(cmd.Actor, cmd.Participants)
	if err != nil {
		return events.Event{}, err
	}
	apps := events.AppsOf(parts)
	if !p.AllowsAmong(apps, ActionStart) {
		return events.Event{}, fmt.Errorf("%w: %s does not let %v start conversations with each other",
			ErrCrossAppNotAllowed, p.Describe(), apps)
	}
	if err := p.Reachable(parts, cmd.OptedIn); err != nil {
		return events.Event{}, err
	}
	return c.emit(events.ConversationStarted, cmd, p, now, events.ConversationStartedData{
		ConversationID: c.ID, StartedBy: cmd.Actor, Participants: parts, CrossApp: len(apps) > 1,
	})
}

// participants validates the list, adds the actor and drops repeats, keeping
// the order given.
func participants(actor events.Account, given []events.Account) ([]events.Account, error) {
	seen := map[events.Account]bool{actor: true}
	out := []events.Account{actor}
	for _, a := range given {
		if _, err := events.ParseAccount(string(a)); err != nil {
			return nil, fmt.Errorf("%w: participants: %v", ErrInvalid, err)
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("%w: a conversation needs at least one participant besides the actor", ErrInvalid)
	}
	if len(out) > api.MaxParticipants {
		return nil, fmt.Errorf("%w: at most %d participants, got %d", ErrInvalid, api.MaxParticipants, len(out))
	}
	return out, nil
}

// member checks the command's meta and that the actor takes part.
func (c *Conversation) member(m Meta) error {
	if err := m.check(); err != nil {
		return err
	}
	if !c.IsParticipant(m.Actor) {
		return fmt.Errorf("%w: %s is not in conversation %s", ErrNotParticipant, m.Actor, c.ID)
	}
	return nil
}

// writable is the gate for every command that changes content: the actor is
// a participant, the conversation is open, and the policy in force still
// lets its apps send to each other. The last check is what refuses a command
// that races the closer.
func (c *Conversation) writable(m Meta, p *Policy) error {
	if err := c.member(m); err != nil {
		return err
	}
	if err := c.open(); err != nil {
		return err
	}
	if !p.AllowsAmong(c.Apps, ActionSend) {
		return fmt.Errorf("%w: %s does not let %v send to each other",
			ErrCrossAppNotAllowed, p.Describe(), c.Apps)
	}
	return nil
}

// open refuses every command but message.read on a closed conversation.
func (c *Conversation) open() error {
	if c.Closed {
		return fmt.Errorf("%w: conversation %s was closed by policy version %d; it is read-only",
			ErrConversationClosed, c.ID, c.ClosedBy)
	}
	return nil
}

func (c *Conversation) message(id string) (messageState, error) {
	if err := checkID("message_id", id); err != nil {
		return messageState{}, err
	}
	m, ok := c.find(id)
	if !ok {
		return messageState{}, fmt.Errorf("%w: no message %s in conversation %s", ErrMessageNotFound, id, c.ID)
	}
	return m, nil
}
