package projector

import (
	"fmt"
	"time"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
)

// MessagePage is one page of a conversation's messages, oldest first, with
// the read receipts the viewer may see.
type MessagePage struct {
	Items        []Message                 `json:"items"`
	ReadReceipts map[events.Account]string `json:"read_receipts"` // account -> last message id read
	NextCursor   Cursor                    `json:"next_cursor,omitempty"`
}

// Message is one message with its edits, unsend and reactions folded in. It
// is also the stored value of msg/<conv>/<seq>. An unsent message is a
// tombstone: Unsent is true and Text is empty (hist/ keeps what was sent).
type Message struct {
	MessageID string                    `json:"message_id"`
	Sender    events.Account            `json:"sender"`
	Text      string                    `json:"text"`
	SentAt    time.Time                 `json:"sent_at"`
	Edited    bool                      `json:"edited"`
	Unsent    bool                      `json:"unsent"`
	Reactions map[events.Account]string `json:"reactions"` // account -> reaction
}

// Messages returns a page of a conversation's messages, oldest first, from
// the first message or after cursor (a NextCursor of an earlier page);
// limit as for Inbox. Only a participant may read them. ReadReceipts holds
// the viewer's own marker, and another participant's only if that
// participant sends read receipts and the policy in force at now lets the
// viewer's app see them from that participant's app.
func (s *Store) Messages(conv string, viewer events.Account, limit int, cursor Cursor, now time.Time) (MessagePage, error) {
	snap, release, err := s.snapshot()
	if err != nil {
		return MessagePage{}, err
	}
	defer release()
	c, err := participantView(snap, conv, viewer)
	if err != nil {
		return MessagePage{}, err
	}
	page, err := messagePage(snap, conv, clampLimit(limit), cursor)
	if err != nil {
		return MessagePage{}, err
	}
	policy, err := policyInForce(snap, now)
	if err != nil {
		return MessagePage{}, err
	}
	page.ReadReceipts, err = readReceipts(snap, c, viewer, policy)
	return page, err
}

// participantView loads the conversation and checks that viewer is in it.
func participantView(r reader, conv string, viewer events.Account) (*convRecord, error) {
	c, err := conversation(r, conv)
	if err != nil {
		return nil, err
	}
	if !c.isParticipant(viewer) {
		return nil, fmt.Errorf("%w: %s is not in conversation %s", ErrNotParticipant, viewer, conv)
	}
	return &c, nil
}

func messagePage(r reader, conv string, limit int, cursor Cursor) (MessagePage, error) {
	prefix := msgPrefix(conv)
	from, err := resume(prefix, cursor, func(b []byte) bool { _, ok := parseMsgSuffix(b); return ok })
	if err != nil {
		return MessagePage{}, err
	}
	page := MessagePage{Items: []Message{}}
	var last []byte
	err = scan(r, prefix, from, func(k, v []byte) (bool, error) {
		if len(page.Items) == limit {
			page.NextCursor = encodeCursor(last)
			return false, nil
		}
		last = suffix(prefix, k)
		var m Message
		if err := json.Unmarshal(v, &m); err != nil {
			return false, fmt.Errorf("decode message %q: %w", k, err)
		}
		if m.Reactions == nil {
			m.Reactions = map[events.Account]string{} // {} on the wire, not null
		}
		page.Items = append(page.Items, m)
		return true, nil
	})
	return page, err
}

// readReceipts returns the markers viewer may see: its own always; another
// participant's if its settings send them and the policy allows the viewer's
// app to see them. Settings and policy can each only narrow.
func readReceipts(r reader, c *convRecord, viewer events.Account, p *aggregate.Policy) (map[events.Account]string, error) {
	out := map[events.Account]string{}
	for _, a := range c.Participants {
		var mk readMarker
		found, err := getJSON(r, readKey(c.ID, a), &mk)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		if a != viewer {
			acct, err := accountOrDefault(r, a)
			if err != nil {
				return nil, err
			}
			if !acct.SendReadReceipts || !p.Allows(viewer.App(), a.App(), aggregate.ActionSeeReadReceipts) {
				continue
			}
		}
		out[a] = mk.MessageID
	}
	return out, nil
}

// accountOrDefault reads an account record; a participant always has one,
// but defaults are the right answer if it somehow does not.
func accountOrDefault(r reader, a events.Account) (*accountRecord, error) {
	rec := newAccountRecord()
	_, err := getJSON(r, acctKey(a), rec)
	return rec, err
}
