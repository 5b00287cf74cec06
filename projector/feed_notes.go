package projector

import (
	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector/views"
)

// notify makes the feed notes of an event the tx just applied: what each
// account concerned may see of it, decided with the queries' visibility
// rules (visibility.go) under the policy in force now.
func (t *tx) notify(d decoded) error {
	if t.feed == nil || t.skipped || d.seq <= t.feed.after {
		return nil
	}
	n := api.Notification{Seq: d.seq, At: d.event.Time, ConversationID: d.key}
	switch x := d.data.(type) {
	case *events.ConversationStartedData:
		n.Kind, n.Account, n.CrossApp = api.NoteConversationStarted, string(x.StartedBy), x.CrossApp
		n.Participants = views.AccountStrings(x.Participants)
	case *events.MessageSentData:
		n.Kind, n.MessageID, n.Account, n.Text = api.NoteMessageSent, x.MessageID, string(x.Sender), x.Text
	case *events.MessageEditedData:
		n.Kind, n.MessageID, n.Account, n.Text = api.NoteMessageEdited, x.MessageID, string(x.Editor), x.Text
	case *events.MessageUnsentData:
		n.Kind, n.MessageID, n.Account = api.NoteMessageUnsent, x.MessageID, string(x.By)
	case *events.MessageReactedData:
		n.Kind, n.MessageID, n.Account, n.Reaction = api.NoteMessageReacted, x.MessageID, string(x.Account), x.Reaction
	case *events.MessageReadData:
		n.Kind, n.MessageID, n.Account = api.NoteMessageRead, x.MessageID, string(x.Account)
		return t.notifyRead(d.key, x.Account, &n)
	case *events.ConversationClosedData:
		n.Kind, n.Reason, n.PolicyVersion = api.NoteConversationClosed, x.Reason, x.PolicyVersion
	case *events.CallStartedData:
		n.Kind, n.CallID, n.Account, n.Media = api.NoteCallStarted, x.CallID, string(x.By), x.Media
	case *events.CallEndedData:
		n.Kind, n.CallID, n.Account = api.NoteCallEnded, x.CallID, string(x.By)
	case *events.PresenceChangedData:
		if t.feed.superseded(events.Account(d.key), d.seq) {
			return nil
		}
		n.Kind, n.ConversationID, n.Account, n.Status = api.NotePresenceChanged, "", d.key, x.Status
		return t.notifyPresence(events.Account(d.key), &n)
	default: // settings and policies: a policy's effect is PolicyTookEffect's
		return nil
	}
	return t.toParticipants(d.key, &n, nil)
}

// toParticipants adds n to the feed of each participant of conversation
// id that sees passes (nil: all of them).
func (t *tx) toParticipants(id string, n *api.Notification, sees func(viewer events.Account) bool) error {
	c := t.convs[id]
	for _, p := range c.rec.Participants {
		if sees != nil && !sees(p) {
			continue
		}
		if err := t.feed.add(t.db, p, n); err != nil {
			return err
		}
	}
	return nil
}

// notifyRead tells a read marker to the participants who may see the
// reader's read receipts, as the messages query would show it to them.
func (t *tx) notifyRead(id string, reader events.Account, n *api.Notification) error {
	rec, err := t.account(reader)
	if err != nil {
		return err
	}
	p, err := t.feedPolicy()
	if err != nil {
		return err
	}
	return t.toParticipants(id, n, func(v events.Account) bool { return views.SeesReadReceipts(v, reader, rec, p) })
}

// notifyPresence tells an account's activity status to itself and to the
// partners of its conversations (open or closed) who may see it, at most
// Options.PresenceFanout accounts (fanout.go).
func (t *tx) notifyPresence(a events.Account, n *api.Notification) error {
	rec, err := t.account(a)
	if err != nil {
		return err
	}
	p, err := t.feedPolicy()
	if err != nil {
		return err
	}
	partners, truncated, err := t.partners(a, t.feed.fanout)
	if err != nil {
		return err
	}
	if truncated {
		t.feed.capped++
	}
	for _, v := range partners {
		if views.SeesActivityStatus(v, a, rec, p) {
			if err := t.feed.add(t.db, v, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// feedPolicy is the policy in force now, read once per run. A policy
// published within the run is not seen: publishing one takes effect at its
// effective time, which PolicyTookEffect announces.
func (t *tx) feedPolicy() (*aggregate.Policy, error) {
	f := t.feed
	if !f.policyRead {
		p, err := views.PolicyAt(t.db, f.now())
		if err != nil {
			return nil, err
		}
		f.policy, f.policyRead = p, true
	}
	return f.policy, nil
}
