package views

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Stored values. Records are JSON: readable with any Pebble tool. They are
// written with goccy/go-json (the encoding/json API, a few times faster),
// which like encoding/json writes struct fields in order and map keys
// sorted, so a rebuilt store equals an incrementally built one byte for
// byte. Counters and sequences are 8 bytes big-endian (EncodeUint).

// ConvRecord is the value of conv/<id>.
type ConvRecord struct {
	ID             string             `json:"id"`
	Participants   []events.Account   `json:"participants"`
	Apps           []events.App       `json:"apps"`
	CrossApp       bool               `json:"cross_app"`
	Closed         bool               `json:"closed"`
	ClosedByPolicy uint64             `json:"closed_by_policy"`
	CloseReason    string             `json:"close_reason,omitempty"`
	Version        uint64             `json:"version"`
	LastSeq        uint64             `json:"last_seq"`  // of the subject's last event: the closer's expected sequence
	LastHash       string             `json:"last_hash"` // events.Hash of that event: the closer's prevhash
	LastActivity   time.Time          `json:"last_activity"`
	Messages       uint64             `json:"messages"`
	LastMessage    *LastMessageRecord `json:"last_message,omitempty"`
	// Unread counts, per participant, the messages from others after the
	// participant's read marker that were not unsent. Kept here rather than
	// under keys of their own so that one read gives everything the inbox
	// items of the conversation show.
	Unread map[events.Account]uint64 `json:"unread,omitempty"`
	// Expired is the conversation's latest content.expired, if any.
	Expired *ContentExpiry `json:"expired,omitempty"`
}

// LastMessageRecord is the inbox preview of a conversation; Seq tells which
// message it is, so an edit or unsend of that message updates it.
type LastMessageRecord struct {
	Seq       uint64         `json:"seq"`
	MessageID string         `json:"message_id"`
	Sender    events.Account `json:"sender"`
	Text      string         `json:"text"` // a Content
	// Erased is set when an event erased the preview's content.
	Erased *api.Erasure `json:"erased,omitempty"`
}

// IsParticipant reports whether a takes part in the conversation.
func (c *ConvRecord) IsParticipant(a events.Account) bool {
	for _, p := range c.Participants {
		if p == a {
			return true
		}
	}
	return false
}

// InboxItem is the stored value of an inbox key: api.InboxItem's JSON,
// with the record's own account type, so that writing one per participant
// and message converts nothing. Inbox decodes it into api.InboxItem, and
// InboxJSON answers with its bytes as they are.
type InboxItem struct {
	ConversationID string           `json:"conversation_id"`
	Participants   []events.Account `json:"participants"`
	CrossApp       bool             `json:"cross_app"`
	Closed         bool             `json:"closed"`
	ClosedByPolicy uint64           `json:"closed_by_policy"`
	LastActivity   time.Time        `json:"last_activity"`
	LastMessage    *api.LastMessage `json:"last_message,omitempty"`
	Unread         int              `json:"unread"`
}

// NewInboxItem is what an account's inbox shows of a conversation; Apply
// stores it as the value of the account's inbox key.
func NewInboxItem(id string, c *ConvRecord, unread uint64) InboxItem {
	item := InboxItem{
		ConversationID: id, Participants: c.Participants, CrossApp: c.CrossApp,
		Closed: c.Closed, ClosedByPolicy: c.ClosedByPolicy, LastActivity: c.LastActivity, Unread: int(unread),
	}
	if lm := c.LastMessage; lm != nil {
		item.LastMessage = &api.LastMessage{MessageID: lm.MessageID, Sender: string(lm.Sender), Text: lm.Text, Erased: lm.Erased}
		if lm.Erased != nil {
			item.LastMessage.Text = ""
		}
	}
	return item
}

// ReadMarker is the value of read/<conv>/<account>.
type ReadMarker struct {
	MessageID string    `json:"message_id"`
	Seq       uint64    `json:"seq"`
	At        time.Time `json:"at"`
}

// AccountRecord is the value of acct/<account>. Known is always true in a
// stored record; it exists so that a reader of the raw value need not infer
// it from the key's presence.
type AccountRecord struct {
	Status             string     `json:"status"`
	LastActiveAt       *time.Time `json:"last_active_at,omitempty"`
	ShowActivityStatus bool       `json:"show_activity_status"`
	SendReadReceipts   bool       `json:"send_read_receipts"`
	Known              bool       `json:"known"`
	// Erased is the account's latest account.erased, if any.
	Erased *AccountErasure `json:"erased,omitempty"`
}

// MarkActive records activity at the given time; like inbox activity it
// never moves back.
func (r *AccountRecord) MarkActive(at time.Time) {
	if r.LastActiveAt == nil || at.After(*r.LastActiveAt) {
		at := at
		r.LastActiveAt = &at
	}
}

// NewAccountRecord returns the defaults of an account with no settings
// events: offline, both settings on (as in both apps).
func NewAccountRecord() *AccountRecord {
	return &AccountRecord{Status: events.StatusOffline, ShowActivityStatus: true, SendReadReceipts: true, Known: true}
}

// PoisonRecord is the value of poison/<seq>: a log message the projector
// could not apply, kept with the reason so an operator can inspect it.
type PoisonRecord struct {
	Subject string `json:"subject"`
	Error   string `json:"error"`
	Data    []byte `json:"data"`
}

// Get returns a copy of the value of k, or found=false.
func Get(r Reader, k []byte) (value []byte, found bool, err error) {
	v, closer, err := r.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("Get %q: %w", k, err)
	}
	defer closer.Close()
	return append([]byte(nil), v...), true, nil
}

// GetJSON decodes the record at k into v.
func GetJSON(r Reader, k []byte, v any) (found bool, err error) {
	b, found, err := Get(r, k)
	if err != nil || !found {
		return found, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode record %q: %w", k, err)
	}
	return true, nil
}

// GetUint reads a counter or sequence; a missing key is 0.
func GetUint(r Reader, k []byte) (n uint64, found bool, err error) {
	b, found, err := Get(r, k)
	if err != nil || !found {
		return 0, found, err
	}
	n, ok := decodeUint(b)
	if !ok {
		return 0, false, fmt.Errorf("decode number %q: %d bytes, want 8", k, len(b))
	}
	return n, true, nil
}

// Scan calls fn for every key with prefix, starting at from (or the prefix
// itself when from is nil), in key order. key and value are valid only
// during the call. fn returns false to stop.
func Scan(r Reader, prefix, from []byte, fn func(key, value []byte) (bool, error)) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("Scan %q: %w", prefix, err)
	}
	if from == nil {
		from = prefix
	}
	for ok := it.SeekGE(from); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return fmt.Errorf("Scan %q: %w", prefix, err)
		}
		more, err := fn(it.Key(), v)
		if err != nil || !more {
			_ = it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("Scan %q: %w", prefix, err)
	}
	return nil
}

// scanPageSize is how many entries scanPaged copies out per iterator.
const scanPageSize = 1024

// scanPaged calls fn for every key with prefix, in key order, like scan, but
// copies the entries out a page at a time and calls fn with no iterator open
// and the store not held: fn may be slow or call the Store itself, and Close
// is never blocked behind it.
func (q *Queries) scanPaged(prefix []byte, fn func(k, v []byte) error) error {
	from := prefix
	for {
		page, err := q.readPage(prefix, from)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e.key, e.value); err != nil {
				return err
			}
		}
		if len(page) < scanPageSize {
			return nil
		}
		from = successor(page[len(page)-1].key)
	}
}

type entry struct{ key, value []byte }

func (q *Queries) readPage(prefix, from []byte) ([]entry, error) {
	release, err := q.acquire()
	if err != nil {
		return nil, err
	}
	defer release()
	var page []entry
	err = Scan(q.db, prefix, from, func(k, v []byte) (bool, error) {
		page = append(page, entry{bytes.Clone(k), bytes.Clone(v)})
		return len(page) < scanPageSize, nil
	})
	return page, err
}

// ReadConversations reads the records of the conversations ids with one
// iterator, seeking in key order, and calls fn with each that exists. A
// run of point reads made a fresh iterator each (its sstable lookups, its
// block-cache probes); ascending seeks on one iterator let Pebble step
// forward from where it is. This is how the closer reads 100,000 heads and
// how Apply loads a run's conversations that its cache does not hold. R is
// what each record is decoded into: ConvRecord, or HeadRecord for a head.
func ReadConversations[R any](r Reader, ids []string, fn func(id string, c *R) error) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil
	}
	prefix := tablePrefix(tableConv)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("read conversations: %w", err)
	}
	for _, id := range ids {
		k := ConvKey(id)
		if !it.SeekGE(k) {
			break
		}
		if string(it.Key()) != string(k) {
			continue
		}
		var c R
		v, err := it.ValueAndErr()
		if err == nil {
			err = Unmarshal(it.Key(), v, &c)
		}
		if err == nil {
			err = fn(id, &c)
		}
		if err != nil {
			_ = it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("read conversations: %w", err)
	}
	return nil
}

// ReadUints reads the counters at keys, which must be ascending, with
// one iterator stepping forward instead of a point read each, and calls
// fn with the index of each key it finds and its value.
func ReadUints(r Reader, keys [][]byte, fn func(i int, n uint64)) error {
	if len(keys) == 0 {
		return nil
	}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: keys[0], UpperBound: successor(keys[len(keys)-1])})
	if err != nil {
		return err
	}
	for i, k := range keys {
		if !it.SeekGE(k) {
			break
		}
		if !bytes.Equal(it.Key(), k) {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return err
		}
		n, ok := decodeUint(v)
		if !ok {
			_ = it.Close()
			return fmt.Errorf("decode number %q: %d bytes, want 8", k, len(v))
		}
		fn(i, n)
	}
	return it.Close()
}

// AccountStrings is accounts as the wire types hold them.
func AccountStrings(accounts []events.Account) []string {
	if accounts == nil {
		return nil
	}
	out := make([]string, len(accounts))
	for i, a := range accounts {
		out[i] = string(a)
	}
	return out
}
