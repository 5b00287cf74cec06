package aggregate

import (
	"fmt"
	"unicode/utf8"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Meta is what every command carries: its id, the app whose subject it came
// in on, the acting account, and the principal that sent it.
type Meta struct {
	CommandID string
	App       events.App
	Actor     events.Account
	// Principal is who the NATS server authenticated as the command's
	// sender (identity.Principal.String()), which the event records as
	// its principal extension; "" when identities are self-declared. The
	// aggregate records it and decides nothing by it: the service checked
	// it before.
	Principal string
	// Trace is the W3C trace context the command arrived with, which the
	// event records as its distributed-tracing extension. Like the
	// principal, it decides nothing and is no part of what makes a retry
	// the same command: a retry may come from another trace.
	Trace events.Trace
}

// Command is any command an aggregate decides. It is sealed (only this
// package's command types implement it), so an aggregate's Decide can list
// every case; a command another aggregate decides is refused with
// ErrUnknownCommand.
type Command interface {
	// Header returns the command's meta: what the service needs of any
	// command (its id, to deduplicate; its actor, to find the aggregate)
	// without a type switch.
	Header() Meta
	command()
}

func (StartConversation) command() {}
func (SendMessage) command()       {}
func (EditMessage) command()       {}
func (UnsendMessage) command()     {}
func (ReactToMessage) command()    {}
func (ReadMessage) command()       {}
func (StartCall) command()         {}
func (EndCall) command()           {}
func (Close) command()             {}
func (SetPresence) command()       {}
func (ChangeSettings) command()    {}
func (PublishPolicy) command()     {}

// Header returns the closing's meta: its causing event's id and principal,
// and no actor or app, as the closer acts for the policy, not for an
// account.
func (c Close) Header() Meta { return Meta{CommandID: c.CommandID, Principal: c.Principal} }

// Header returns the publish's meta: its id and principal, and no actor or
// app, as the admin endpoint belongs to no app.
func (c PublishPolicy) Header() Meta {
	return Meta{CommandID: c.CommandID, Principal: c.Principal, Trace: c.Trace}
}

func (m Meta) check() error {
	if !events.ValidUUID(m.CommandID) {
		return fmt.Errorf("%w: command_id must be %s, got %s", ErrInvalid, events.UUIDForm, events.Quote(m.CommandID))
	}
	if _, err := events.ParseAccount(string(m.Actor)); err != nil {
		return fmt.Errorf("%w: actor: %v", ErrInvalid, err)
	}
	if m.Actor.App() != m.App {
		return fmt.Errorf("%w: %s cannot act through the %s endpoint", ErrWrongApp, m.Actor, m.App)
	}
	return nil
}

// Conversation commands. Each names its conversation in the service; the
// aggregate it is decided against is that conversation's state.
type (
	// StartConversation starts a conversation among Participants (the actor
	// is added if missing).
	StartConversation struct {
		Meta
		Participants []events.Account
		// OptedIn says which participants have opted in to
		// interoperability; the service fills it from their account states
		// when the policy in force has a link that requires opt-in.
		OptedIn map[events.Account]bool
	}
	// SendMessage sends Text; MessageID is derived from the command when empty.
	// Digest, when set, is a keyed digest of Text (seal.Digest), which the
	// event's id derives from in place of Text (appendSeed): the service
	// seals the text, and the envelope then holds no unkeyed hash of it.
	SendMessage struct {
		Meta
		MessageID string
		Text      string
		Digest    string
	}
	// EditMessage replaces the text of the actor's own message; Digest as
	// for SendMessage.
	EditMessage struct {
		Meta
		MessageID string
		Text      string
		Digest    string
	}
	// UnsendMessage withdraws the actor's own message.
	UnsendMessage struct {
		Meta
		MessageID string
	}
	// ReactToMessage sets (or with an empty Reaction removes) the actor's
	// reaction; Digest, of a sealed Reaction, as for SendMessage.
	ReactToMessage struct {
		Meta
		MessageID string
		Reaction  string
		Digest    string
	}
	// ReadMessage moves the actor's read marker up to MessageID.
	ReadMessage struct {
		Meta
		MessageID string
	}
	// StartCall starts an audio or video call; CallID is derived when empty.
	StartCall struct {
		Meta
		CallID string
		Media  string
	}
	// EndCall ends a call.
	EndCall struct {
		Meta
		CallID string
	}
	// Close closes a conversation that Policy no longer allows (reason
	// "policy"), or whose cross-app link relied on an opt-in that a
	// participant has withdrawn (reason "opt_out"). CommandID is the causing
	// event's id (the policy's, or the opt-out's); there is no actor.
	Close struct {
		CommandID string
		Policy    *Policy
		// OptedIn holds the participants' opt-ins, as for StartConversation.
		OptedIn map[events.Account]bool
		// Principal is who decides the closing: "service" when identities
		// are enforced (the closer is the service), "" otherwise.
		Principal string
	}
)

func checkText(text string) error {
	if len(text) == 0 || len(text) > api.MaxTextBytes {
		return fmt.Errorf("%w: text must be 1 to %d bytes, got %d", ErrInvalid, api.MaxTextBytes, len(text))
	}
	if !utf8.ValidString(text) {
		return fmt.Errorf("%w: text is not valid UTF-8", ErrInvalid)
	}
	return nil
}

func checkID(field, id string) error {
	if !events.ValidUUID(id) {
		return fmt.Errorf("%w: %s must be %s, got %s", ErrInvalid, field, events.UUIDForm, events.Quote(id))
	}
	return nil
}
