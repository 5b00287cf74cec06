package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/seal"
)

// Keys are the data keys the service seals content with and erases
// (docs/erasure.md); *keyring.Ring is one. A scope is what one account
// wrote in one conversation; a leaf is a message index
// (aggregate.Conversation.NextMessageIndex).
type Keys interface {
	// Leaf is scope's leaf key, its tree made if missing, and the tree's
	// id: what seal.Digest and seal.Seal take.
	Leaf(ctx context.Context, s keyring.Scope, leaf uint32) (treeID string, key seal.Key, err error)
	// Open opens what Seal sealed, or reports keyring.ErrErased.
	Open(ctx context.Context, s keyring.Scope, ad []byte, sealed string) (string, error)
	// Puncture erases scope's leaves lo to hi inclusive; idempotent.
	Puncture(ctx context.Context, s keyring.Scope, lo, hi uint32) error
	// EraseAccount erases every scope of account; idempotent.
	EraseAccount(ctx context.Context, account string) (scopes int, err error)
}

// sealing is what a command's content is sealed with: the scope and the
// leaf, and the text. The zero value seals nothing.
type sealing struct {
	on    bool
	scope keyring.Scope
	leaf  uint32
	text  string
	// erased is set when the leaf's key is gone (its message unsent, or
	// its content expired): Decide's refusal, if any, answers first;
	// otherwise sealed refuses with ErrContentErased.
	erased bool
	// tree and key are the leaf's, asked for once by digested.
	tree string
	key  seal.Key
}

// ErrContentErased refuses an edit or a reaction whose message's content
// key is erased: there is nothing left to seal it with.
var ErrContentErased = errors.New("message content erased")

// scopeOf is the scope of what account wrote in conversation.
func scopeOf(account events.Account, conversation string) keyring.Scope {
	return keyring.Scope{Account: string(account), Conversation: conversation}
}

// adOf binds a sealed value to ev, the event that carries it, and account,
// whose content it is: the conversation's stream subject, ev's type and id.
func adOf(ev events.Event, account events.Account) []byte {
	return seal.AD(events.ConversationSubject(ev.Subject), string(ev.Type), ev.ID, string(account))
}

// sealingFor is how cmd's content is sealed on conversation c: a send at
// the next message index, an edit or a reaction at its message's, each in
// the actor's scope (only the sender edits: Decide refuses anyone else).
// It seals nothing without Keys, for a command with no content (an empty
// reaction removes one), or one Decide will refuse for its actor or
// message: a stranger's command makes no key.
func (s *Service) sealingFor(c *aggregate.Conversation, cmd aggregate.Command) sealing {
	if s.opts.Keys == nil || !c.IsParticipant(cmd.Header().Actor) {
		return sealing{}
	}
	var text, msg string
	switch cmd := cmd.(type) {
	case aggregate.SendMessage:
		return sealing{on: true, scope: scopeOf(cmd.Actor, c.ID), leaf: c.NextMessageIndex(), text: cmd.Text}
	case aggregate.EditMessage:
		text, msg = cmd.Text, cmd.MessageID
	case aggregate.ReactToMessage:
		text, msg = cmd.Reaction, cmd.MessageID
	default:
		return sealing{}
	}
	leaf, err := c.MessageIndex(msg)
	if err != nil || text == "" {
		return sealing{}
	}
	return sealing{on: true, scope: scopeOf(cmd.Header().Actor, c.ID), leaf: leaf, text: text}
}

// withDigest is cmd with its Digest set, under sl.
func withDigest(cmd aggregate.Command, digest string) aggregate.Command {
	switch c := cmd.(type) {
	case aggregate.SendMessage:
		c.Digest = digest
		return c
	case aggregate.EditMessage:
		c.Digest = digest
		return c
	case aggregate.ReactToMessage:
		c.Digest = digest
		return c
	}
	return cmd
}

// digested returns cmd ready to decide on e: with its content's keyed
// digest when it is to be sealed, so that its event's id derives from no
// unkeyed hash of the text.
func (s *Service) digested(ctx context.Context, e *entry, cmd aggregate.Command) (aggregate.Command, sealing, error) {
	c, ok := e.state.(*aggregate.Conversation)
	if !ok {
		return cmd, sealing{}, nil
	}
	sl := s.sealingFor(c, cmd)
	if !sl.on {
		return cmd, sl, nil
	}
	var err error
	sl.tree, sl.key, err = s.opts.Keys.Leaf(ctx, sl.scope, sl.leaf)
	if errors.Is(err, keyring.ErrErased) {
		sl.erased = true
		return cmd, sl, nil
	}
	if err != nil {
		return nil, sealing{}, fmt.Errorf("digest of %s's content: %w", c.ID, err)
	}
	return withDigest(cmd, seal.Digest(sl.key, sl.text)), sl, nil
}

// sealed returns ev with its content sealed by sl, its text or reaction
// emptied: what is appended.
func (s *Service) sealed(ctx context.Context, ev events.Event, sl sealing) (events.Event, error) {
	if !sl.on {
		return ev, nil
	}
	if sl.erased {
		return events.Event{}, fmt.Errorf("%w: the key of message %d of conversation %s is erased (unsent, or expired by a retention rule): "+
			"it can be neither edited nor reacted to", ErrContentErased, sl.leaf, ev.Subject)
	}
	v, err := seal.Seal(sl.key, sl.tree, sl.leaf, adOf(ev, events.Account(sl.scope.Account)), sl.text)
	if err != nil {
		return events.Event{}, fmt.Errorf("seal %s's content: %w", ev.Subject, err)
	}
	data, ok := sealInto(ev.Payload, v)
	if !ok {
		return ev, nil
	}
	fresh, err := events.New(ev.Type, ev.Subject, ev.Time, ev.CausationID, ev.PolicyVersion, data)
	if err != nil {
		return events.Event{}, err
	}
	ev.Data, ev.Payload = fresh.Data, fresh.Payload
	return ev, nil
}

// sealInto is payload p carrying the sealed value v in place of its text
// or reaction, and false for a payload with no content to seal.
func sealInto(p any, v string) (events.Payload, bool) {
	switch d := p.(type) {
	case events.MessageSentData:
		d.Text, d.Sealed = "", v
		return d, true
	case events.MessageEditedData:
		d.Text, d.Sealed = "", v
		return d, true
	case events.MessageReactedData:
		d.Reaction, d.Sealed = "", v
		return d, true
	}
	return nil, false
}

// erasing does what ev, decided from cmd on e, needs of the keys before it
// is appended: seals its content (sl), or erases what it erases. An
// unsend punctures its message's leaf in the sender's scope; an account
// erasure erases every scope of the account. Each is idempotent, so an
// append that then fails and is retried does no harm: the content is
// gone, and the event that says so follows.
func (s *Service) erasing(ctx context.Context, e *entry, cmd aggregate.Command, ev events.Event, sl sealing) (events.Event, error) {
	if s.opts.Keys == nil {
		return ev, nil
	}
	switch cmd := cmd.(type) {
	case aggregate.UnsendMessage:
		c, _ := e.state.(*aggregate.Conversation)
		leaf, err := c.MessageIndex(cmd.MessageID)
		if err == nil {
			err = s.opts.Keys.Puncture(ctx, scopeOf(cmd.Actor, c.ID), leaf, leaf)
		}
		if err != nil {
			return events.Event{}, fmt.Errorf("erase the content of message %s: %w", cmd.MessageID, err)
		}
		return ev, nil
	case aggregate.EraseAccount:
		if _, err := s.opts.Keys.EraseAccount(ctx, string(cmd.Actor)); err != nil {
			return events.Event{}, fmt.Errorf("erase account %s: %w", cmd.Actor, err)
		}
		return ev, nil
	}
	return s.sealed(ctx, ev, sl)
}

// sealedOf is the sealed value ev carries and the account whose content
// it is, "" when none.
func sealedOf(ev events.Event) (sealed string, account events.Account) {
	switch ev.Type {
	case events.MessageSent:
		d, _ := events.DataOf[events.MessageSentData](ev)
		return d.Sealed, d.Sender
	case events.MessageEdited:
		d, _ := events.DataOf[events.MessageEditedData](ev)
		return d.Sealed, d.Editor
	case events.MessageReacted:
		d, _ := events.DataOf[events.MessageReactedData](ev)
		return d.Sealed, d.Account
	}
	return "", ""
}

// sameSealedCommand reports whether the stored event ev, which carries
// content sealed by account, was decided from cmd. The stored value is
// opened and compared with cmd's content, then cmd is digested under the
// leaf the value names and compared through the seed
// (aggregate.SameCommand), which holds every other field. When the key is
// erased nothing can be compared: a retry of ev's command id, by ev's
// account, of ev's kind, is then the duplicate it is.
func (s *Service) sameSealedCommand(ctx context.Context, ev events.Event, v string, account events.Account, cmd aggregate.Command) (bool, error) {
	text, ok := contentOf(cmd, ev.Type)
	if !ok || cmd.Header().Actor != account {
		return false, nil
	}
	scope := scopeOf(account, ev.Subject)
	opened, err := s.opts.Keys.Open(ctx, scope, adOf(ev, account), v)
	switch {
	case errors.Is(err, keyring.ErrErased) || errors.Is(err, seal.ErrErased):
		return ev.CausationID == cmd.Header().CommandID, nil
	case errors.Is(err, seal.ErrMalformed):
		return false, nil
	case err != nil:
		return false, err
	case opened != text:
		return false, nil
	}
	sv, _ := seal.Parse(v) // it opened: well formed
	_, key, err := s.opts.Keys.Leaf(ctx, scope, sv.Leaf)
	if err != nil {
		return false, err
	}
	return aggregate.SameCommand(ev, withDigest(cmd, seal.Digest(key, text))), nil
}

// contentOf is the content cmd would seal, when cmd is of the kind that
// makes events of type t.
func contentOf(cmd aggregate.Command, t events.Type) (string, bool) {
	switch c := cmd.(type) {
	case aggregate.SendMessage:
		return c.Text, t == events.MessageSent
	case aggregate.EditMessage:
		return c.Text, t == events.MessageEdited
	case aggregate.ReactToMessage:
		return c.Reaction, t == events.MessageReacted
	}
	return "", false
}

// sameCommand reports whether the stored event ev was decided from cmd
// (aggregate.SameCommand), its content sealed or not.
func (s *Service) sameCommand(ctx context.Context, ev events.Event, cmd aggregate.Command) (bool, error) {
	if aggregate.SameCommand(ev, cmd) {
		return true, nil
	}
	if s.opts.Keys == nil {
		return false, nil
	}
	v, account := sealedOf(ev)
	if v == "" {
		return false, nil
	}
	return s.sameSealedCommand(ctx, ev, v, account, cmd)
}
