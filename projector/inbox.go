package projector

import (
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Errors of the read functions, matched with errors.Is.
var (
	// ErrUnknownAccount reports a query about an account no event has named.
	ErrUnknownAccount = errors.New("unknown account")
	// ErrConversationNotFound reports a query about a conversation that was
	// never started.
	ErrConversationNotFound = errors.New("conversation not found")
	// ErrNotParticipant reports a viewer who does not take part in the
	// conversation it asks about.
	ErrNotParticipant = errors.New("not a participant")
	// ErrInvalidCursor reports a cursor that no page of this query returned.
	// It is an aggregate.ErrInvalid, so it maps to a 400 like any bad input.
	ErrInvalidCursor = fmt.Errorf("%w: cursor", aggregate.ErrInvalid)
)

// Page sizes of Inbox and Messages.
const (
	DefaultPageSize = 20  // a limit of 0 (or less) means this
	MaxPageSize     = 200 // a larger limit is clamped to this
)

// Cursor is an opaque position in a paged query: the base64 of the last
// returned key's suffix. "" is the start.
type Cursor = string

// InboxPage is one page of an account's inbox, newest activity first.
type InboxPage struct {
	Items      []InboxItem `json:"items"`
	NextCursor Cursor      `json:"next_cursor,omitempty"` // "" on the last page
}

// InboxItem is one conversation in an inbox.
type InboxItem struct {
	ConversationID string           `json:"conversation_id"`
	Participants   []events.Account `json:"participants"`
	CrossApp       bool             `json:"cross_app"`
	Closed         bool             `json:"closed"`
	ClosedByPolicy uint64           `json:"closed_by_policy"` // 0 unless closed by a policy
	LastActivity   time.Time        `json:"last_activity"`
	LastMessage    *LastMessage     `json:"last_message,omitempty"` // newest message not unsent
	Unread         int              `json:"unread"`
}

// LastMessage is the preview of a conversation in an inbox.
type LastMessage struct {
	MessageID string         `json:"message_id"`
	Sender    events.Account `json:"sender"`
	Text      string         `json:"text"`
}

// Inbox returns a page of the account's conversations, newest activity
// first (a conversation started, a message sent, edited or unsent). limit is
// clamped to 1..MaxPageSize, 0 meaning DefaultPageSize; cursor is a
// NextCursor of an earlier page or "".
func (s *Store) Inbox(account events.Account, limit int, cursor Cursor) (InboxPage, error) {
	page := InboxPage{Items: []InboxItem{}}
	next, err := s.inboxItems(account, limit, cursor, func(k, v []byte) error {
		var item InboxItem
		if err := json.Unmarshal(v, &item); err != nil {
			return fmt.Errorf("decode inbox item %q: %w", k, err)
		}
		page.Items = append(page.Items, item)
		return nil
	})
	if err != nil {
		return InboxPage{}, err
	}
	page.NextCursor = next
	return page, nil
}

// InboxJSON is Inbox encoded as JSON, byte for byte what json.Marshal of
// Inbox's page gives, but made of the stored items without decoding them:
// the query endpoint's answer, for a third of the CPU.
func (s *Store) InboxJSON(account events.Account, limit int, cursor Cursor) ([]byte, error) {
	out := append(make([]byte, 0, 4096), `{"items":[`...)
	next, err := s.inboxItems(account, limit, cursor, func(_, v []byte) error {
		if out[len(out)-1] != '[' {
			out = append(out, ',')
		}
		out = append(out, v...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out = append(out, ']')
	if next != "" {
		out = append(out, `,"next_cursor":"`...)
		out = append(out, next...) // base64url: nothing to escape
		out = append(out, '"')
	}
	return append(out, '}'), nil
}

// inboxItems calls fn with the stored items of one page and returns the
// cursor of the next page, "" on the last.
func (s *Store) inboxItems(account events.Account, limit int, cursor Cursor, fn func(k, v []byte) error) (Cursor, error) {
	snap, release, err := s.snapshot()
	if err != nil {
		return "", err
	}
	defer release()
	if _, known, err := get(snap, acctKey(account)); err != nil || !known {
		if err == nil {
			err = fmt.Errorf("%w: %s has no events", ErrUnknownAccount, account)
		}
		return "", err
	}
	prefix := inboxPrefix(account)
	from, err := resume(prefix, cursor, func(b []byte) bool { _, ok := parseInboxSuffix(b); return ok })
	if err != nil {
		return "", err
	}
	limit = clampLimit(limit)
	var last []byte
	var n int
	var next Cursor
	err = scan(snap, prefix, from, func(k, v []byte) (bool, error) {
		if n == limit {
			next = encodeCursor(last)
			return false, nil
		}
		n++
		last = suffix(prefix, k)
		return true, fn(k, v)
	})
	return next, err
}

// newInboxItem is what an account's inbox shows of a conversation; Apply
// stores it as the value of the account's inbox key.
func newInboxItem(id string, c *convRecord, unread uint64) InboxItem {
	item := InboxItem{
		ConversationID: id, Participants: c.Participants, CrossApp: c.CrossApp,
		Closed: c.Closed, ClosedByPolicy: c.ClosedByPolicy, LastActivity: c.LastActivity, Unread: int(unread),
	}
	if lm := c.LastMessage; lm != nil {
		item.LastMessage = &LastMessage{MessageID: lm.MessageID, Sender: lm.Sender, Text: lm.Text}
	}
	return item
}

func clampLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageSize
	case limit > MaxPageSize:
		return MaxPageSize
	}
	return limit
}

func encodeCursor(suffix []byte) Cursor { return base64.RawURLEncoding.EncodeToString(suffix) }

// resume returns where a scan of prefix continues after cursor: nil (the
// start) for "", else just after the key the cursor names. valid checks that
// the cursor's suffix is one this query could have returned.
func resume(prefix []byte, cursor Cursor, valid func([]byte) bool) ([]byte, error) {
	if cursor == "" {
		return nil, nil
	}
	sfx, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || !valid(sfx) {
		return nil, fmt.Errorf("%w %q is not one this query returned; start again with an empty cursor", ErrInvalidCursor, cursor)
	}
	return successor(withSuffix(prefix, sfx)), nil
}
