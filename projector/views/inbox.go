package views

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
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

// Inbox returns a page of the account's conversations, newest activity
// first (a conversation started, a message sent, edited or unsent). limit is
// clamped to 1..MaxPageSize, 0 meaning DefaultPageSize; cursor is a
// NextCursor of an earlier page or "".
func (q *Queries) Inbox(account events.Account, limit int, cursor api.Cursor) (api.InboxPage, error) {
	page := api.InboxPage{Items: []api.InboxItem{}}
	next, err := q.inboxItems(account, Page{Limit: limit, Cursor: cursor}, func(k, v []byte) error {
		if bytes.Contains(v, sealedPreview) {
			var err error
			if v, err = openInboxItem(context.Background(), nil, k, v); err != nil {
				return err
			}
		}
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
func (q *Queries) InboxJSON(account events.Account, limit int, cursor api.Cursor) ([]byte, error) {
	return q.AppendInboxJSON(nil, account, Page{Limit: limit, Cursor: cursor})
}

// AppendInboxJSON appends the JSON of inbox page p to dst and returns the
// extended buffer, so that the query endpoint can reuse one buffer for
// every reply rather than grow a new one per page (a page is several
// kilobytes). What it appends is at most p.MaxBytes, unless its one item
// is larger.
func (q *Queries) AppendInboxJSON(dst []byte, account events.Account, p Page) ([]byte, error) {
	return q.AppendOpenedInboxJSON(context.Background(), nil, dst, account, p)
}

// AppendOpenedInboxJSON is AppendInboxJSON with each sealed preview opened
// by o (nil: shown as stored), the one item decoded and encoded again;
// an item in clear is appended as it is stored.
func (q *Queries) AppendOpenedInboxJSON(ctx context.Context, o Opener, dst []byte, account events.Account, p Page) ([]byte, error) {
	out := append(dst, `{"items":[`...)
	open := len(out)
	next, err := q.inboxItems(account, p, func(k, v []byte) error {
		if len(out) != open {
			out = append(out, ',')
		}
		if !bytes.Contains(v, sealedPreview) {
			out = append(out, v...)
			return nil
		}
		b, err := openInboxItem(ctx, o, k, v)
		out = append(out, b...)
		return err
	})
	if err != nil {
		return dst, err
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
// cursor of the next page, "" on the last. One iterator is the page's
// consistent view, without a snapshot: opening and closing a snapshot per
// query cost a DB lock each way and a compaction check on close. The
// account is looked up only when the page is empty, through the same
// iterator: an inbox item is written in the batch that makes its account
// known, so a page with items is of a known account.
func (q *Queries) inboxItems(account events.Account, p Page, fn func(k, v []byte) error) (api.Cursor, error) {
	release, err := q.acquire()
	if err != nil {
		return "", err
	}
	defer release()
	prefix := InboxPrefix(account)
	it, err := q.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return "", fmt.Errorf("Scan %q: %w", prefix, err)
	}
	from, err := resume(prefix, p.Cursor, func(b []byte) bool { _, ok := parseInboxSuffix(b); return ok })
	if err != nil {
		// An unknown account is the first thing wrong, as it always was.
		return "", errors.Join(cmp.Or(knownAccount(it, account), err), it.Close())
	}
	size := pageBytes{used: len(`{"items":[]}`), max: p.MaxBytes}
	next, n, err := pageOf(it, prefix, from, ClampLimit(p.Limit), &size, fn)
	if err == nil && n == 0 {
		err = knownAccount(it, account)
	}
	return next, errors.Join(err, it.Close())
}

// pageOf calls fn with at most limit entries of it from from (the prefix
// itself when nil), as many as size takes (each its value and a comma),
// and returns how many it gave and the cursor of the next page, "" when
// the entries end within the page.
func pageOf(it *pebble.Iterator, prefix, from []byte, limit int, size *pageBytes, fn func(k, v []byte) error) (api.Cursor, int, error) {
	if from == nil {
		from = prefix
	}
	n := 0
	var last []byte
	for ok := it.SeekGE(from); ok; ok = it.Next() {
		if n == limit {
			return EncodeCursor(last[len(prefix):]), n, nil
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return "", n, fmt.Errorf("Scan %q: %w", prefix, err)
		}
		if !size.take(openedBytes(v)+1, cursorLen(len(it.Key())-len(prefix)), n == 0) {
			return EncodeCursor(last[len(prefix):]), n, nil
		}
		n++
		last = append(last[:0], it.Key()...)
		if err := fn(it.Key(), v); err != nil {
			return "", n, err
		}
	}
	return "", n, it.Error()
}

// knownAccount reports ErrUnknownAccount unless account has a record, read
// through it so that it sees what the page saw.
func knownAccount(it *pebble.Iterator, account events.Account) error {
	k := AcctKey(account)
	it.SetBounds(k, successor(k))
	if !it.SeekGE(k) {
		if err := it.Error(); err != nil {
			return fmt.Errorf("Get %q: %w", k, err)
		}
		return fmt.Errorf("%w: %s has no events", ErrUnknownAccount, account)
	}
	return nil
}

// ClampLimit clamps a page limit to 1..MaxPageSize, 0 (or less) meaning
// DefaultPageSize.
func ClampLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageSize
	case limit > MaxPageSize:
		return MaxPageSize
	}
	return limit
}

// EncodeCursor makes a cursor: the base64 of the last returned key's
// suffix ("" is the start).
func EncodeCursor(suffix []byte) api.Cursor { return base64.RawURLEncoding.EncodeToString(suffix) }

// resume returns where a scan of prefix continues after cursor: nil (the
// start) for "", else just after the key the cursor names. valid checks that
// the cursor's suffix is one this query could have returned.
func resume(prefix []byte, cursor api.Cursor, valid func([]byte) bool) ([]byte, error) {
	if cursor == "" {
		return nil, nil
	}
	sfx, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || !valid(sfx) {
		return nil, fmt.Errorf("%w %s is not one this query returned; start again with an empty cursor", ErrInvalidCursor, events.Quote(cursor))
	}
	return successor(withSuffix(prefix, sfx)), nil
}

// ScanInboxConversations calls fn with each conversation of account's
// inbox: what an account's erasure goes through to mark its previews.
func ScanInboxConversations(r Reader, account events.Account, fn func(conv string)) error {
	prefix := InboxPrefix(account)
	return Scan(r, prefix, nil, func(k, _ []byte) (bool, error) {
		if conv, ok := parseInboxSuffix(k[len(prefix):]); ok {
			fn(conv)
		}
		return true, nil
	})
}

// sealedPreview is in the stored JSON of an inbox item whose preview is
// sealed (a sealed value starts "s1.", and the text is its item's last
// field but the erased marker).
var sealedPreview = []byte(`"text":"s1.`)

// openInboxItem is the JSON of stored item v with its preview opened.
func openInboxItem(ctx context.Context, o Opener, k, v []byte) ([]byte, error) {
	var item InboxItem
	if err := json.Unmarshal(v, &item); err != nil {
		return nil, fmt.Errorf("decode inbox item %q: %w", k, err)
	}
	if lm := item.LastMessage; lm != nil && lm.Erased == nil {
		p := &opening{ctx: ctx, o: o, conv: item.ConversationID, erased: noErasure}
		text, x, err := p.open(events.Account(lm.Sender), lm.Text, 0)
		if err != nil {
			return nil, err
		}
		lm.Text, lm.Erased = text, x
	}
	return json.Marshal(&item)
}

// noErasure is an answer's account erasures when the views already
// marked them (the inbox previews: projector's markPreview).
func noErasure(events.Account) (*AccountErasure, error) { return nil, nil }
