package aggregate

import (
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// The commands of erasure (docs/erasure.md). The aggregates decide who may
// erase what and record it; destroying the keys is the service's, between
// the decision and its append.

// EraseAccount erases the actor's account: every key it sealed content with
// is destroyed. A repeat with a new command id is decided again, as it
// erases the scopes made since; a retry with the same id is a duplicate.
type EraseAccount struct {
	Meta
}

// ExpireContent erases a conversation's content by a retention rule of
// policy PolicyVersion: every message index up to Through inclusive, the
// messages sent before Before. Like Close it has no actor: CommandID is
// the scheduler's, and Principal who decides ("service" when identities
// are enforced).
type ExpireContent struct {
	CommandID     string
	Through       uint32
	Before        time.Time
	PolicyVersion uint64
	Principal     string
}

func (EraseAccount) command()  {}
func (ExpireContent) command() {}

// Header returns the expiry's meta: its id and principal, and no actor or
// app, as a retention rule acts for the policy, not for an account.
func (c ExpireContent) Header() Meta { return Meta{CommandID: c.CommandID, Principal: c.Principal} }

// decideErase decides an account's erasure: only the account itself acts
// (the service has checked that the principal may act as it).
func (a *Account) decideErase(cmd EraseAccount, p *Policy, now time.Time) (events.Event, error) {
	if err := a.own(cmd.Meta); err != nil {
		return events.Event{}, err
	}
	return a.Stream.next(events.AccountErased, string(a.Name), now, cmd, p.VersionOf(),
		events.AccountErasedData{Account: a.Name, By: cmd.Actor})
}

// NextMessageIndex is the index the next message sent will have: the leaf
// of its scope's key tree that seals it (package seal). Indices are
// 0-based, in the order of message.sent: a MessageRecord's Index less one.
func (c *Conversation) NextMessageIndex() uint32 { return uint32(c.count) }

// MessageIndex is the index of message id (as NextMessageIndex was when it
// was sent). The message must be held: in memory or recalled (Wanted).
func (c *Conversation) MessageIndex(id string) (uint32, error) {
	m, err := c.message(id)
	if err != nil {
		return 0, err
	}
	return uint32(m.index - 1), nil
}

// ExpiredThrough reports the last message index an earlier content.expired
// covered, and false when none did.
func (c *Conversation) ExpiredThrough() (uint32, bool) {
	return c.expired - 1, c.expired > 0
}

// decideExpire records a retention rule's erasure, when it reaches beyond
// what an earlier one covered: an expiry is idempotent by its reach, so a
// scheduler may ask again after a crash without a second event.
func (c *Conversation) decideExpire(cmd ExpireContent, now time.Time) (events.Event, error) {
	if !c.Started {
		return events.Event{}, fmt.Errorf("%w: %s", ErrConversationNotFound, c.ID)
	}
	if c.count == 0 || cmd.Through >= uint32(c.count) {
		return events.Event{}, fmt.Errorf("%w: through %d is beyond conversation %s's %d messages", ErrInvalid, cmd.Through, c.ID, c.count)
	}
	if cmd.Through < c.expired {
		return events.Event{}, fmt.Errorf("%w: content through index %d already expired", ErrNotAffected, c.expired-1)
	}
	return c.Stream.next(events.ContentExpired, c.ID, now, cmd, cmd.PolicyVersion, events.ContentExpiredData{
		Through: cmd.Through, Before: cmd.Before.UTC(), PolicyVersion: cmd.PolicyVersion})
}

// applyExpired folds a content.expired: no account acted.
func (c *Conversation) applyExpired(e events.Event) (events.Account, error) {
	d, err := events.DataOf[events.ContentExpiredData](e)
	if err != nil {
		return "", err
	}
	c.expired = max(c.expired, d.Through+1)
	return "", nil
}
