package projector

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Stored values. Records are JSON: readable with any Pebble tool. They are
// written with goccy/go-json (the encoding/json API, a few times faster),
// which like encoding/json writes struct fields in order and map keys
// sorted, so a rebuilt store equals an incrementally built one byte for
// byte. Counters and sequences are 8 bytes big-endian (encodeUint).

// convRecord is the value of conv/<id>.
type convRecord struct {
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
	LastMessage    *lastMessageRecord `json:"last_message,omitempty"`
	// Unread counts, per participant, the messages from others after the
	// participant's read marker that were not unsent. Kept here rather than
	// under keys of their own so that one read gives everything the inbox
	// items of the conversation show.
	Unread map[events.Account]uint64 `json:"unread,omitempty"`
}

// lastMessageRecord is the inbox preview of a conversation; Seq tells which
// message it is, so an edit or unsend of that message updates it.
type lastMessageRecord struct {
	Seq       uint64         `json:"seq"`
	MessageID string         `json:"message_id"`
	Sender    events.Account `json:"sender"`
	Text      string         `json:"text"`
}

// isParticipant reports whether a takes part in the conversation.
func (c *convRecord) isParticipant(a events.Account) bool {
	for _, p := range c.Participants {
		if p == a {
			return true
		}
	}
	return false
}

// readMarker is the value of read/<conv>/<account>.
type readMarker struct {
	MessageID string    `json:"message_id"`
	Seq       uint64    `json:"seq"`
	At        time.Time `json:"at"`
}

// accountRecord is the value of acct/<account>. Known is always true in a
// stored record; it exists so that a reader of the raw value need not infer
// it from the key's presence.
type accountRecord struct {
	Status             string     `json:"status"`
	LastActiveAt       *time.Time `json:"last_active_at,omitempty"`
	ShowActivityStatus bool       `json:"show_activity_status"`
	SendReadReceipts   bool       `json:"send_read_receipts"`
	Known              bool       `json:"known"`
}

// newAccountRecord returns the defaults of an account with no settings
// events: offline, both settings on (as in both apps).
func newAccountRecord() *accountRecord {
	return &accountRecord{Status: events.StatusOffline, ShowActivityStatus: true, SendReadReceipts: true, Known: true}
}

// poisonRecord is the value of poison/<seq>: a log message the projector
// could not apply, kept with the reason so an operator can inspect it.
type poisonRecord struct {
	Subject string `json:"subject"`
	Error   string `json:"error"`
	Data    []byte `json:"data"`
}

// get returns a copy of the value of k, or found=false.
func get(r reader, k []byte) (value []byte, found bool, err error) {
	v, closer, err := r.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get %q: %w", k, err)
	}
	defer closer.Close()
	return append([]byte(nil), v...), true, nil
}

// getJSON decodes the record at k into v.
func getJSON(r reader, k []byte, v any) (found bool, err error) {
	b, found, err := get(r, k)
	if err != nil || !found {
		return found, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode record %q: %w", k, err)
	}
	return true, nil
}

// getUint reads a counter or sequence; a missing key is 0.
func getUint(r reader, k []byte) (n uint64, found bool, err error) {
	b, found, err := get(r, k)
	if err != nil || !found {
		return 0, found, err
	}
	n, ok := decodeUint(b)
	if !ok {
		return 0, false, fmt.Errorf("decode number %q: %d bytes, want 8", k, len(b))
	}
	return n, true, nil
}

// scan calls fn for every key with prefix, starting at from (or the prefix
// itself when from is nil), in key order. key and value are valid only
// during the call. fn returns false to stop.
func scan(r reader, prefix, from []byte, fn func(key, value []byte) (bool, error)) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("scan %q: %w", prefix, err)
	}
	if from == nil {
		from = prefix
	}
	for ok := it.SeekGE(from); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return fmt.Errorf("scan %q: %w", prefix, err)
		}
		more, err := fn(it.Key(), v)
		if err != nil || !more {
			_ = it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("scan %q: %w", prefix, err)
	}
	return nil
}

// scanPageSize is how many entries scanPaged copies out per iterator.
const scanPageSize = 1024

// scanPaged calls fn for every key with prefix, in key order, like scan, but
// copies the entries out a page at a time and calls fn with no iterator open
// and the store not held: fn may be slow or call the Store itself, and Close
// is never blocked behind it.
func (s *Store) scanPaged(prefix []byte, fn func(k, v []byte) error) error {
	from := prefix
	for {
		page, err := s.readPage(prefix, from)
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

func (s *Store) readPage(prefix, from []byte) ([]entry, error) {
	release, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer release()
	var page []entry
	err = scan(s.db, prefix, from, func(k, v []byte) (bool, error) {
		page = append(page, entry{bytes.Clone(k), bytes.Clone(v)})
		return len(page) < scanPageSize, nil
	})
	return page, err
}
