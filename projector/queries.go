package projector

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
func (s *Store) Presence(viewer, account events.Account, now time.Time) (api.PresenceView, error) {
	snap, release, err := s.snapshot()
	if err != nil {
		return api.PresenceView{}, err
	}
	defer release()
	var rec accountRecord
	found, err := getJSON(snap, acctKey(account), &rec)
	if err != nil {
		return api.PresenceView{}, err
	}
	if !found {
		return api.PresenceView{}, fmt.Errorf("%w: %s has no events", ErrUnknownAccount, account)
	}
	if viewer != account {
		var p *aggregate.Policy
		if rec.ShowActivityStatus { // hidden by its own settings needs no policy
			if p, err = policyInForce(snap, now); err != nil {
				return api.PresenceView{}, err
			}
		}
		if !seesActivityStatus(viewer, account, &rec, p) {
			return api.PresenceView{}, nil
		}
	}
	return api.PresenceView{Visible: true, Status: rec.Status, LastActiveAt: rec.LastActiveAt}, nil
}

// Conversation returns the state of conversation id.
func (s *Store) Conversation(id string) (api.ConversationView, error) {
	release, err := s.acquire()
	if err != nil {
		return api.ConversationView{}, err
	}
	defer release()
	c, err := conversation(s.db, id)
	if err != nil {
		return api.ConversationView{}, err
	}
	return conversationView(id, &c), nil
}

// conversation reads the record of conversation id.
func conversation(r reader, id string) (convRecord, error) {
	var c convRecord
	found, err := getJSON(r, convKey(id), &c)
	if err == nil && !found {
		err = fmt.Errorf("%w: %s", ErrConversationNotFound, id)
	}
	return c, err
}

func conversationView(id string, c *convRecord) api.ConversationView {
	return api.ConversationView{
		ConversationID: id, Participants: accountStrings(c.Participants), CrossApp: c.CrossApp, Closed: c.Closed,
		ClosedByPolicy: c.ClosedByPolicy, CloseReason: c.CloseReason, Version: c.Version,
	}
}

// OpenConversations calls fn for every started, not yet closed conversation,
// in key order, with the apps of its participants: what the policy closer
// checks against a new policy. An error from fn stops the scan and is
// returned. fn may call the Store: it runs outside any Pebble iterator.
func (s *Store) OpenConversations(fn func(id string, apps []events.App) error) error {
	return s.scanPaged(tablePrefix(tableOpen), func(k, v []byte) error {
		id, ok := parseOpenKey(k)
		if !ok {
			return fmt.Errorf("malformed open/ key %q", k)
		}
		var apps []events.App
		if err := unmarshal(k, v, &apps); err != nil {
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
func (s *Store) History(fn func(subject string, seq uint64, data []byte) error) error {
	upTo := s.Checkpoint()
	return s.scanPaged(tablePrefix(tableHist), func(k, v []byte) error {
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
func (s *Store) ConversationHeads(ids []string, fn func(ConversationHead) error) error {
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()
	return readConversations(s.db, ids, func(id string, c *headRecord) error {
		return fn(conversationHead(id, c))
	})
}

// headRecord is the part of a convRecord that a ConversationHead holds,
// under the same JSON names. Decoding only these skips the record's time,
// message count, preview and unread counts, which the closer, reading
// 100,000 heads, does not need.
type headRecord struct {
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

func conversationHead(id string, c *headRecord) ConversationHead {
	h := ConversationHead{
		ConversationID: id, Participants: c.Participants, Apps: c.Apps, CrossApp: c.CrossApp, Closed: c.Closed,
		ClosedByPolicy: c.ClosedByPolicy, CloseReason: c.CloseReason, Version: c.Version,
	}
	if c.LastHash != "" {
		h.LastSeq, h.LastHash = c.LastSeq, c.LastHash
	}
	return h
}

// accountStrings is accounts as the wire types hold them.
func accountStrings(accounts []events.Account) []string {
	if accounts == nil {
		return nil
	}
	out := make([]string, len(accounts))
	for i, a := range accounts {
		out[i] = string(a)
	}
	return out
}
