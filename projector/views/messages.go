package views

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
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
func (q *Queries) Messages(conv string, viewer events.Account, limit int, cursor api.Cursor, now time.Time) (api.MessagePage, error) {
	return q.MessagePage(conv, viewer, Page{Limit: limit, Cursor: cursor}, now)
}

// MessagePage is Messages of page p: its JSON (json.Marshal's) is at most
// p.MaxBytes, unless its one item is larger. It opens nothing: sealed
// texts are shown as stored (OpenedMessagePage opens them).
func (q *Queries) MessagePage(conv string, viewer events.Account, p Page, now time.Time) (api.MessagePage, error) {
	return q.OpenedMessagePage(context.Background(), nil, conv, viewer, p, now)
}

// OpenedMessagePage is MessagePage with the page's items opened by o at
// answer time, and those an event erased marked so (views/erasure.go);
// nil o opens nothing. Only the items of the page are opened.
func (q *Queries) OpenedMessagePage(ctx context.Context, o Opener, conv string, viewer events.Account, p Page, now time.Time) (api.MessagePage, error) {
	snap, release, err := q.snapshot()
	if err != nil {
		return api.MessagePage{}, err
	}
	defer release()
	c, err := participantView(snap, conv, viewer)
	if err != nil {
		return api.MessagePage{}, err
	}
	policy, err := PolicyAt(snap, now)
	if err != nil {
		return api.MessagePage{}, err
	}
	receipts, err := readReceipts(snap, c, viewer, policy)
	if err != nil {
		return api.MessagePage{}, err
	}
	size := pageBytes{used: len(`{"items":[],"read_receipts":}`) + mapBytes(receipts), max: p.MaxBytes}
	open := &opening{ctx: ctx, o: o, conv: conv, expiry: c.Expired, erased: accountErasures(snap)}
	page, err := messagePage(snap, conv, ClampLimit(p.Limit), p.Cursor, &size, open)
	if err != nil {
		return api.MessagePage{}, err
	}
	page.ReadReceipts = receipts
	return page, nil
}

// participantView loads the conversation and checks that viewer is in it.
func participantView(r Reader, conv string, viewer events.Account) (*ConvRecord, error) {
	c, err := conversation(r, conv)
	if err != nil {
		return nil, err
	}
	if !c.IsParticipant(viewer) {
		return nil, fmt.Errorf("%w: %s is not in conversation %s", ErrNotParticipant, viewer, conv)
	}
	return &c, nil
}

// messagePage reads at most limit messages after cursor, as many as size
// takes.
func messagePage(r Reader, conv string, limit int, cursor api.Cursor, size *pageBytes, open *opening) (api.MessagePage, error) {
	prefix := MsgPrefix(conv)
	from, err := resume(prefix, cursor, func(b []byte) bool { _, ok := ParseMsgSuffix(b); return ok })
	if err != nil {
		return api.MessagePage{}, err
	}
	page := api.MessagePage{Items: []api.MessageView{}}
	var last []byte
	err = Scan(r, prefix, from, func(k, v []byte) (bool, error) {
		n := len(page.Items)
		if n == limit || !size.take(messageBytes(v)-len(v)+openedBytes(v), cursorLen(len(k)-len(prefix)), n == 0) {
			page.NextCursor = EncodeCursor(last)
			return false, nil
		}
		last = suffix(prefix, k)
		var m api.MessageView
		if err := json.Unmarshal(v, &m); err != nil {
			return false, fmt.Errorf("decode message %q: %w", k, err)
		}
		seq, _ := ParseMsgSuffix(last)
		if err := open.message(&m, seq); err != nil {
			return false, err
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
func readReceipts(r Reader, c *ConvRecord, viewer events.Account, p *aggregate.Policy) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range c.Participants {
		var mk ReadMarker
		found, err := GetJSON(r, ReadKey(c.ID, a), &mk)
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
			if !SeesReadReceipts(viewer, a, acct, p) {
				continue
			}
		}
		out[string(a)] = mk.MessageID
	}
	return out, nil
}

// accountOrDefault reads an account record; a participant always has one,
// but defaults are the right answer if it somehow does not.
func accountOrDefault(r Reader, a events.Account) (*AccountRecord, error) {
	rec := NewAccountRecord()
	_, err := GetJSON(r, AcctKey(a), rec)
	return rec, err
}

// LastVisible finds the newest message of conv after seq `after` that was
// not unsent, skipping those skip names (a writer's own rewrites, which
// it holds newer than the store does).
func LastVisible(r Reader, conv string, after uint64, skip func(seq uint64) bool) (*LastMessageRecord, error) {
	prefix := MsgPrefix(conv)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: MsgKey(conv, after+1), UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ok := it.Last(); ok; ok = it.Prev() {
		seq, _ := ParseMsgSuffix(it.Key()[len(prefix):])
		if skip(seq) {
			continue
		}
		if last, err := Visible(seq, it.Value()); last != nil || err != nil {
			return last, err
		}
	}
	return nil, it.Error()
}

// Visible returns the inbox preview of the message record rec, sent at
// seq, or nil if it was unsent.
func Visible(seq uint64, rec []byte) (*LastMessageRecord, error) {
	var m api.MessageView
	if err := DecodeMessageRecord(rec, &m); err != nil {
		return nil, err
	}
	if m.Unsent {
		return nil, nil
	}
	return &LastMessageRecord{Seq: seq, MessageID: m.MessageID, Sender: events.Account(m.Sender), Text: m.Text}, nil
}

// DecodeMessageRecord decodes a msg/ record.
func DecodeMessageRecord(rec []byte, m *api.MessageView) error {
	if err := json.Unmarshal(rec, m); err != nil {
		return fmt.Errorf("decode message record: %w", err)
	}
	return nil
}
