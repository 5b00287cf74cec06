package projector

import (
	"log/slog"

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
		n.Kind, n.MessageID, n.Account = api.NoteMessageSent, x.MessageID, string(x.Sender)
		n.Text = views.Content(x.Text, x.Sealed, d.event, d.seq) // opened before publishing (openNotes)
	case *events.MessageEditedData:
		n.Kind, n.MessageID, n.Account = api.NoteMessageEdited, x.MessageID, string(x.Editor)
		n.Text = views.Content(x.Text, x.Sealed, d.event, d.seq)
	case *events.MessageUnsentData:
		n.Kind, n.MessageID, n.Account = api.NoteMessageUnsent, x.MessageID, string(x.By)
	case *events.MessageReactedData:
		n.Kind, n.MessageID, n.Account = api.NoteMessageReacted, x.MessageID, string(x.Account)
		n.Reaction = views.Content(x.Reaction, x.Sealed, d.event, d.seq)
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
		t.feed.add(p, n)
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
			t.feed.add(v, n)
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

// The cost of one event in the feeds is bounded (docs/reliability.md,
// "Fan-out"): a conversation event notifies its participants, at most
// aggregate.MaxParticipants; a presence.changed notifies at most
// Options.PresenceFanout accounts, and none when a later presence.changed
// of the same account is in the same run (coalescePresence); and a batch
// holds at most Options.RunNotes notes (plus one event's) before it
// commits and publishes them, so the notes waiting in memory are bounded
// too.

// coalescePresence notes, for each account, its last presence.changed in
// msgs after seq from: an earlier one of the run is superseded before any
// client could read it, so it makes no feed notes (a client that loads
// presence sees the last status either way). Only the envelopes of an
// account with more than one event in the run are decoded: the others
// cannot be superseded, and a run of many accounts' events (a catch-up)
// pays no second decode.
func (f *feedTx) coalescePresence(from uint64, msgs []events.Message) {
	if f == nil {
		return
	}
	clear(f.presence)
	var seen map[events.Account]int // an account's events in the run
	for _, m := range msgs {
		if a, ok := f.accountEvent(from, m); ok {
			if seen == nil {
				seen = map[events.Account]int{}
			}
			seen[a]++
		}
	}
	for _, m := range msgs {
		a, ok := f.accountEvent(from, m)
		if !ok || seen[a] < 2 {
			continue
		}
		if e, err := events.Decode(m.Data); err == nil && e.Type == events.PresenceChanged {
			f.presence[a] = m.Seq
		}
	}
}

// accountEvent returns the account of m, an event after seq from on an
// account subject that the feeds have not published yet.
func (f *feedTx) accountEvent(from uint64, m events.Message) (events.Account, bool) {
	if m.Seq <= from || m.Seq <= f.after {
		return "", false
	}
	kind, key := events.ClassifySubject(m.Subject)
	return events.Account(key), kind == events.SubjectAccount
}

// superseded reports whether a's presence.changed at seq has a later one
// in the run, and counts it.
func (f *feedTx) superseded(a events.Account, seq uint64) bool {
	if last, ok := f.presence[a]; ok && last > seq {
		f.coalesced++
		return true
	}
	return false
}

// full reports whether the run's notes reached Options.RunNotes: fold
// then commits what it applied and goes on in a new batch.
func (f *feedTx) full() bool { return f != nil && len(f.notes) >= f.budget }

// partners returns a and the accounts it shares a conversation with, each
// once, at most limit of them: the participants of the conversations this
// run holds (one it started in the run is in no inbox yet), then of its
// inbox as committed, most recent activity first. truncated says some
// were left out.
func (t *tx) partners(a events.Account, limit int) (out []events.Account, truncated bool, err error) {
	seen := map[events.Account]bool{a: true}
	out = []events.Account{a}
	addAll := func(ps []events.Account) bool {
		for _, p := range ps {
			if len(out) >= limit {
				return false
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
		return true
	}
	for _, c := range t.convs {
		if c.exists && c.rec.IsParticipant(a) && !addAll(c.rec.Participants) {
			return out, true, nil
		}
	}
	err = views.Scan(t.db, views.InboxPrefix(a), nil, func(k, v []byte) (bool, error) {
		var it struct {
			Participants []events.Account `json:"participants"`
		}
		if err := views.Unmarshal(k, v, &it); err != nil {
			return false, err
		}
		truncated = !addAll(it.Participants)
		return !truncated, nil
	})
	return out, truncated, err
}

// logShed says, once per batch, what the feeds left out of it.
func (f *feedTx) logShed(log *slog.Logger) {
	if f == nil {
		return
	}
	if f.coalesced > 0 {
		log.Debug("projector coalesces presence notes", slog.Int("superseded", f.coalesced))
	}
	if f.capped > 0 {
		log.Warn("projector sheds presence feed notes beyond the fan-out limit",
			slog.Int("events", f.capped), slog.Int("limit", f.fanout))
	}
}
