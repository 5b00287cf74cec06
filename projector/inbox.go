package projector

import (
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
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

// Page sizes of Inbox and Messages, the contract's.
const (
	DefaultPageSize = api.DefaultPageSize // a limit of 0 (or less) means this
	MaxPageSize     = api.MaxPageSize     // a larger limit is clamped to this
)

// inboxItem is the stored value of an inbox key: api.InboxItem's JSON,
// with the record's own account type, so that writing one per participant
// and message converts nothing. Inbox decodes it into api.InboxItem, and
// InboxJSON answers with its bytes as they are.
type inboxItem struct {
	ConversationID string           `json:"conversation_id"`
	Participants   []events.Account `json:"participants"`
	CrossApp       bool             `json:"cross_app"`
	Closed         bool             `json:"closed"`
	ClosedByPolicy uint64           `json:"closed_by_policy"`
	LastActivity   time.Time        `json:"last_activity"`
	LastMessage    *api.LastMessage `json:"last_message,omitempty"`
	Unread         int              `json:"unread"`
}

// Inbox returns a page of the account's conversations, newest activity
// first (a conversation started, a message sent, edited or unsent). limit is
// clamped to 1..MaxPageSize, 0 meaning DefaultPageSize; cursor is a
// NextCursor of an earlier page or "".
func (s *Store) Inbox(account events.Account, limit int, cursor api.Cursor) (api.InboxPage, error) {
	page := api.InboxPage{Items: []api.InboxItem{}}
	next, err := s.inboxItems(account, limit, cursor, func(k, v []byte) error {
		var item api.InboxItem
		if err := json.Unmarshal(v, &item); err != nil {
			return fmt.Errorf("decode inbox item %q: %w", k, err)
		}
		page.Items = append(page.Items, item)
		return nil
	})
	if err != nil {
		return api.InboxPage{}, err
	}
	page.NextCursor = next
	return page, nil
}

// InboxJSON is Inbox encoded as JSON, byte for byte what json.Marshal of
// Inbox's page gives, but made of the stored items without decoding them:
// the query endpoint's answer, for a third of the CPU.
func (s *Store) InboxJSON(account events.Account, limit int, cursor api.Cursor) ([]byte, error) {
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
func (s *Store) inboxItems(account events.Account, limit int, cursor api.Cursor, fn func(k, v []byte) error) (api.Cursor, error) {
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
	var next api.Cursor
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
func newInboxItem(id string, c *convRecord, unread uint64) inboxItem {
	item := inboxItem{
		ConversationID: id, Participants: c.Participants, CrossApp: c.CrossApp,
		Closed: c.Closed, ClosedByPolicy: c.ClosedByPolicy, LastActivity: c.LastActivity, Unread: int(unread),
	}
	if lm := c.LastMessage; lm != nil {
		item.LastMessage = &api.LastMessage{MessageID: lm.MessageID, Sender: string(lm.Sender), Text: lm.Text}
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

// encodeCursor makes a cursor: the base64 of the last returned key's
// suffix ("" is the start).
func encodeCursor(suffix []byte) api.Cursor { return base64.RawURLEncoding.EncodeToString(suffix) }

// resume returns where a scan of prefix continues after cursor: nil (the
// start) for "", else just after the key the cursor names. valid checks that
// the cursor's suffix is one this query could have returned.
func resume(prefix []byte, cursor api.Cursor, valid func([]byte) bool) ([]byte, error) {
	if cursor == "" {
		return nil, nil
	}
	sfx, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || !valid(sfx) {
		return nil, fmt.Errorf("%w %q is not one this query returned; start again with an empty cursor", ErrInvalidCursor, cursor)
	}
	return successor(withSuffix(prefix, sfx)), nil
}
