package views

import (
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Presence returns account's activity status as viewer may see it at now:
// always its own; another's only if that account shows its activity status
// and the policy in force lets the viewer's app see it from the account's
// app (same-app is always allowed).
func (q *Queries) Presence(viewer, account events.Account, now time.Time) (api.PresenceView, error) {
	snap, release, err := q.snapshot()
	if err != nil {
		return api.PresenceView{}, err
	}
	defer release()
	var rec AccountRecord
	found, err := GetJSON(snap, AcctKey(account), &rec)
	if err != nil {
		return api.PresenceView{}, err
	}
	if !found {
		return api.PresenceView{}, fmt.Errorf("%w: %s has no events", ErrUnknownAccount, account)
	}
	if viewer != account {
		var p *aggregate.Policy
		if rec.ShowActivityStatus { // hidden by its own settings needs no policy
			if p, err = PolicyAt(snap, now); err != nil {
				return api.PresenceView{}, err
			}
		}
		if !SeesActivityStatus(viewer, account, &rec, p) {
			return api.PresenceView{}, nil
		}
	}
	return api.PresenceView{Visible: true, Status: rec.Status, LastActiveAt: rec.LastActiveAt}, nil
}

// Conversation returns the state of conversation id.
func (q *Queries) Conversation(id string) (api.ConversationView, error) {
	release, err := q.acquire()
	if err != nil {
		return api.ConversationView{}, err
	}
	defer release()
	c, err := conversation(q.db, id)
	if err != nil {
		return api.ConversationView{}, err
	}
	return conversationView(id, &c), nil
}

// conversation reads the record of conversation id.
func conversation(r Reader, id string) (ConvRecord, error) {
	var c ConvRecord
	found, err := GetJSON(r, ConvKey(id), &c)
	if err == nil && !found {
		err = fmt.Errorf("%w: %s", ErrConversationNotFound, id)
	}
	return c, err
}

func conversationView(id string, c *ConvRecord) api.ConversationView {
	return api.ConversationView{
		ConversationID: id, Participants: AccountStrings(c.Participants), CrossApp: c.CrossApp, Closed: c.Closed,
		ClosedByPolicy: c.ClosedByPolicy, CloseReason: c.CloseReason, Version: c.Version,
	}
}

// OpenConversations calls fn for every started, not yet closed conversation,
// in key order, with the apps of its participants: what the policy closer
// checks against a new policy. An error from fn stops the scan and is
// returned. fn may call the Store: it runs outside any Pebble iterator.
func (q *Queries) OpenConversations(fn func(id string, apps []events.App) error) error {
	return q.scanPaged(tablePrefix(tableOpen), func(k, v []byte) error {
		id, ok := parseOpenKey(k)
		if !ok {
			return fmt.Errorf("malformed open/ key %q", k)
		}
		var apps []events.App
		if err := Unmarshal(k, v, &apps); err != nil {
			return err
		}
		return fn(id, apps)
	})
}

// History calls fn for every stored event in (subject, seq) order, with its
// bytes exactly as they were in the log. It covers what was applied when it
// was called (seq <= Checkpoint() then), so a checksum over it does not
// depend on the projector running alongside. fn may keep data; an error from
// fn stops the scan and is returned.
func (q *Queries) History(fn func(subject string, seq uint64, data []byte) error) error {
	upTo := q.checkpoint()
	return q.scanPaged(tablePrefix(tableHist), func(k, v []byte) error {
		subject, seq, ok := parseHistKey(k)
		if !ok {
			return fmt.Errorf("malformed hist/ key %q", k)
		}
		if seq > upTo {
			return nil
		}
		return fn(subject, seq, v)
	})
}

// ConversationHead is what the policy closer needs to decide and append a
// closing without loading the conversation from the log: its state as the
// views have it, and the sequence and chain hash of its last event.
type ConversationHead struct {
	ConversationID string
	Participants   []events.Account
	Apps           []events.App
	CrossApp       bool
	Closed         bool
	ClosedByPolicy uint64
	CloseReason    string
	Version        uint64 // events on the conversation's subject
	LastSeq        uint64 // the stream sequence of the subject's last applied event
	LastHash       string // events.Hash of its stored bytes: the next event's prevhash
}

// ConversationHeads calls fn with the head of each of the conversations ids
// that exists, in key order, read with one ascending scan rather than a
// point read each. A record from before the store kept the head has
// LastSeq 0, which an append with it as expected sequence refuses.
func (q *Queries) ConversationHeads(ids []string, fn func(ConversationHead) error) error {
	release, err := q.acquire()
	if err != nil {
		return err
	}
	defer release()
	return ReadConversations(q.db, ids, func(id string, c *HeadRecord) error {
		return fn(conversationHead(id, c))
	})
}

// HeadRecord is the part of a ConvRecord that a ConversationHead holds,
// under the same JSON names. Decoding only these skips the record's time,
// message count, preview and unread counts, which the closer, reading
// 100,000 heads, does not need.
type HeadRecord struct {
	Participants   []events.Account `json:"participants"`
	Apps           []events.App     `json:"apps"`
	CrossApp       bool             `json:"cross_app"`
	Closed         bool             `json:"closed"`
	ClosedByPolicy uint64           `json:"closed_by_policy"`
	CloseReason    string           `json:"close_reason"`
	Version        uint64           `json:"version"`
	LastSeq        uint64           `json:"last_seq"`
	LastHash       string           `json:"last_hash"`
}

func conversationHead(id string, c *HeadRecord) ConversationHead {
	h := ConversationHead{
		ConversationID: id, Participants: c.Participants, Apps: c.Apps, CrossApp: c.CrossApp, Closed: c.Closed,
		ClosedByPolicy: c.ClosedByPolicy, CloseReason: c.CloseReason, Version: c.Version,
	}
	if c.LastHash != "" {
		h.LastSeq, h.LastHash = c.LastSeq, c.LastHash
	}
	return h
}
