package projector

import (
	"fmt"
	"time"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Messages are stored as api.MessageView, the value of msg/<conv>/<seq>: an
// unsent message is a tombstone there too (hist/ keeps what was sent).

// Messages returns a page of a conversation's messages, oldest first, from
// the first message or after cursor (a NextCursor of an earlier page);
// limit as for Inbox. Only a participant may read them. ReadReceipts holds
// the viewer's own marker, and another participant's only if that
// participant sends read receipts and the policy in force at now lets the
// viewer's app see them from that participant's app.
func (s *Store) Messages(conv string, viewer events.Account, limit int, cursor api.Cursor, now time.Time) (api.MessagePage, error) {
	return s.MessagePage(conv, viewer, Page{Limit: limit, Cursor: cursor}, now)
}

// MessagePage is Messages of page p: its JSON (json.Marshal's) is at most
// p.MaxBytes, unless its one item is larger.
func (s *Store) MessagePage(conv string, viewer events.Account, p Page, now time.Time) (api.MessagePage, error) {
	snap, release, err := s.snapshot()
	if err != nil {
		return api.MessagePage{}, err
	}
	defer release()
	c, err := participantView(snap, conv, viewer)
	if err != nil {
		return api.MessagePage{}, err
	}
	policy, err := policyInForce(snap, now)
	if err != nil {
		return api.MessagePage{}, err
	}
	receipts, err := readReceipts(snap, c, viewer, policy)
	if err != nil {
		return api.MessagePage{}, err
	}
	size := pageBytes{used: len(`{"items":[],"read_receipts":}`) + mapBytes(receipts), max: p.MaxBytes}
	page, err := messagePage(snap, conv, clampLimit(p.Limit), p.Cursor, &size)
	if err != nil {
		return api.MessagePage{}, err
	}
	page.ReadReceipts = receipts
	return page, nil
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

// messagePage reads at most limit messages after cursor, as many as size
// takes.
func messagePage(r reader, conv string, limit int, cursor api.Cursor, size *pageBytes) (api.MessagePage, error) {
	prefix := msgPrefix(conv)
	from, err := resume(prefix, cursor, func(b []byte) bool { _, ok := parseMsgSuffix(b); return ok })
	if err != nil {
		return api.MessagePage{}, err
	}
	page := api.MessagePage{Items: []api.MessageView{}}
	var last []byte
	err = scan(r, prefix, from, func(k, v []byte) (bool, error) {
		n := len(page.Items)
		if n == limit || !size.take(messageBytes(v), cursorLen(len(k)-len(prefix)), n == 0) {
			page.NextCursor = encodeCursor(last)
			return false, nil
		}
		last = suffix(prefix, k)
		var m api.MessageView
		if err := json.Unmarshal(v, &m); err != nil {
			return false, fmt.Errorf("decode message %q: %w", k, err)
		}
		if m.Reactions == nil {
			m.Reactions = map[string]string{} // {} on the wire, not null
		}
		page.Items = append(page.Items, m)
		return true, nil
	})
	return page, err
}

// readReceipts returns the markers viewer may see: its own always; another
// participant's if its settings send them and the policy allows the viewer's
// app to see them. Settings and policy can each only narrow.
func readReceipts(r reader, c *convRecord, viewer events.Account, p *aggregate.Policy) (map[string]string, error) {
	out := map[string]string{}
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
			if !seesReadReceipts(viewer, a, acct, p) {
				continue
			}
		}
		out[string(a)] = mk.MessageID
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
