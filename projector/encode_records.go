package projector

import (
	"maps"
	"slices"
	"strconv"
	"time"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/internal/jsonenc"
)

// The records flush writes for every conversation a run touched (its
// conv/ record and each participant's inbox item) encoded by hand: while
// the projector follows a live log, runs are a few events, and goccy's
// reflection over these two records was 7% of applying them. Like
// encodeNewMessage, the writer gives up on any text json.Marshal would
// escape and the caller falls back to json.Marshal, so the bytes are
// always json.Marshal's (TestEncodeRecords, FuzzEncodeRecords).

// encodeConvRecord is json.Marshal(c).
func encodeConvRecord(c *convRecord) ([]byte, error) {
	n := 320 + len(c.ID) + len(c.CloseReason) + len(c.LastHash) + 24*len(c.Unread)
	for _, p := range c.Participants {
		n += 2 * (len(p) + 3) // in participants, and in unread
	}
	if lm := c.LastMessage; lm != nil {
		n += len(lm.MessageID) + len(lm.Sender) + len(lm.Text)
	}
	w := jsonWriter{b: make([]byte, 0, n), ok: true}
	strs(w.raw(`{"id":`).str(c.ID).raw(`,"participants":`), c.Participants).raw(`,"apps":`)
	strs(&w, c.Apps).raw(`,"cross_app":`).bool(c.CrossApp).raw(`,"closed":`).bool(c.Closed)
	w.raw(`,"closed_by_policy":`).uint(c.ClosedByPolicy)
	if c.CloseReason != "" {
		w.raw(`,"close_reason":`).str(c.CloseReason)
	}
	w.raw(`,"version":`).uint(c.Version).raw(`,"last_seq":`).uint(c.LastSeq).raw(`,"last_hash":`).str(c.LastHash)
	w.raw(`,"last_activity":`).time(c.LastActivity).raw(`,"messages":`).uint(c.Messages)
	if lm := c.LastMessage; lm != nil {
		w.raw(`,"last_message":{"seq":`).uint(lm.Seq).raw(`,"message_id":`).str(lm.MessageID)
		w.raw(`,"sender":`).str(string(lm.Sender)).raw(`,"text":`).str(lm.Text).raw(`}`)
	}
	if len(c.Unread) > 0 {
		w.raw(`,"unread":{`)
		for i, a := range slices.Sorted(maps.Keys(c.Unread)) {
			if i > 0 {
				w.raw(",")
			}
			w.str(string(a)).raw(":").uint(c.Unread[a])
		}
		w.raw("}")
	}
	if w.raw("}"); !w.ok {
		return json.Marshal(c)
	}
	return w.b, nil
}

// encodeInboxItem is json.Marshal(it).
func encodeInboxItem(it *inboxItem) ([]byte, error) {
	n := 256 + len(it.ConversationID)
	for _, p := range it.Participants {
		n += len(p) + 3
	}
	if lm := it.LastMessage; lm != nil {
		n += len(lm.MessageID) + len(lm.Sender) + len(lm.Text)
	}
	w := jsonWriter{b: make([]byte, 0, n), ok: true}
	strs(w.raw(`{"conversation_id":`).str(it.ConversationID).raw(`,"participants":`), it.Participants)
	w.raw(`,"cross_app":`).bool(it.CrossApp).raw(`,"closed":`).bool(it.Closed)
	w.raw(`,"closed_by_policy":`).uint(it.ClosedByPolicy).raw(`,"last_activity":`).time(it.LastActivity)
	if lm := it.LastMessage; lm != nil {
		w.raw(`,"last_message":{"message_id":`).str(lm.MessageID).raw(`,"sender":`).str(lm.Sender)
		w.raw(`,"text":`).str(lm.Text).raw(`}`)
	}
	w.raw(`,"unread":`).b = strconv.AppendInt(w.b, int64(it.Unread), 10)
	if w.raw("}"); !w.ok {
		return json.Marshal(it)
	}
	return w.b, nil
}

// jsonWriter appends JSON; ok turns false at the first value it cannot
// write exactly as json.Marshal does.
type jsonWriter struct {
	b  []byte
	ok bool
}

func (w *jsonWriter) raw(s string) *jsonWriter { w.b = append(w.b, s...); return w }

func (w *jsonWriter) str(s string) *jsonWriter {
	if !jsonenc.Plain(s) {
		w.ok = false
		return w
	}
	w.b = append(append(append(w.b, '"'), s...), '"')
	return w
}

func (w *jsonWriter) bool(v bool) *jsonWriter { w.b = strconv.AppendBool(w.b, v); return w }

func (w *jsonWriter) uint(n uint64) *jsonWriter { w.b = strconv.AppendUint(w.b, n, 10); return w }

func (w *jsonWriter) time(t time.Time) *jsonWriter {
	b, err := t.AppendText(append(w.b, '"')) // what Time.MarshalJSON quotes
	if err != nil {
		w.ok = false
		return w
	}
	w.b = append(b, '"')
	return w
}

// strs writes a slice of texts; nil is null, as json.Marshal writes it.
func strs[T ~string](w *jsonWriter, xs []T) *jsonWriter {
	if xs == nil {
		return w.raw("null")
	}
	w.raw("[")
	for i, x := range xs {
		if i > 0 {
			w.raw(",")
		}
		w.str(string(x))
	}
	return w.raw("]")
}
