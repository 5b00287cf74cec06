package projector

import (
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector/views"
)

// Erasures (docs/erasure.md) change no stored content: the views hold
// sealed values, which the queries open, and record what the events say
// was erased, so that a query shows the item erased with when and by whom
// (views/erasure.go). Only the previews, written into every participant's
// inbox, are marked here, so that an inbox page needs no lookup per item.

// accountErased records an account.erased in the account's record and
// marks the previews of its conversations that it wrote.
func (t *tx) accountErased(d decoded, r *views.AccountRecord, x *events.AccountErasedData) error {
	r.Erased = &views.AccountErasure{Seq: d.seq, At: d.event.Time, By: string(x.By)}
	account := events.Account(d.key)
	ids, err := t.conversationsOf(account)
	if err != nil {
		return err
	}
	for _, id := range ids {
		c, err := t.conv(id)
		if err != nil {
			return err
		}
		if err := t.markPreview(c); err != nil {
			return err
		}
	}
	return nil
}

// conversationsOf lists the conversations account takes part in: those of
// its inbox, and those the run holds that it joined.
func (t *tx) conversationsOf(account events.Account) ([]string, error) {
	var ids []string
	seen := map[string]bool{}
	for id, c := range t.convs {
		if c.exists && c.rec.IsParticipant(account) {
			ids, seen[id] = append(ids, id), true
		}
	}
	err := views.ScanInboxConversations(t.db, account, func(id string) {
		if !seen[id] {
			ids, seen[id] = append(ids, id), true
		}
	})
	return ids, err
}

// contentExpired records a content.expired in the conversation's record:
// the latest holds, its Through never moving back.
func (t *tx) contentExpired(d decoded, c *convState, x *events.ContentExpiredData) error {
	if old := c.rec.Expired; old != nil && old.Through > x.Through {
		t.skip(d, "an earlier expiry went further")
		return nil
	}
	c.rec.Expired = &views.ContentExpiry{Through: x.Through, Before: x.Before, At: d.event.Time, PolicyVersion: x.PolicyVersion}
	return t.markPreview(c)
}

// markPreview marks c's preview erased if an erasure the views know of
// took it: the conversation's expiry, or its sender's account erasure.
func (t *tx) markPreview(c *convState) error {
	lm := c.rec.LastMessage
	if lm == nil || lm.Erased != nil {
		return nil
	}
	if x := c.rec.Expired; x != nil {
		if leaf, ok := views.ContentLeaf(lm.Text); ok && leaf <= x.Through {
			lm.Erased = x.Erasure()
			return nil
		}
	}
	sender, err := t.account(lm.Sender)
	if err != nil {
		return err
	}
	if x := sender.Erased; x != nil && lm.Seq < x.Seq {
		lm.Erased = x.Erasure()
	}
	return nil
}

// unsentErasure is the marker an unsend leaves on its tombstone.
func unsentErasure(d decoded, x *events.MessageUnsentData) *api.Erasure {
	return &api.Erasure{At: d.event.Time, By: string(x.By), Reason: api.ErasedUnsent}
}
