package projector

import (
	"maps"
	"slices"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/jsonenc"
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
	if c.Expired != nil || c.LastMessage != nil && c.LastMessage.Erased != nil {
		return json.Marshal(c) // erasures are rare: not worth writing by hand
	}
	n := 320 + len(c.ID) + len(c.CloseReason) + len(c.LastHash) + 24*len(c.Unread)
	for _, p := range c.Participants {
		n += 2 * (len(p) + 3) // in participants, and in unread
	}
	if lm := c.LastMessage; lm != nil {
		n += len(lm.MessageID) + len(lm.Sender) + len(lm.Text)
	}
	w := jsonenc.NewWriter(make([]byte, 0, n))
	jsonenc.Strs(w.Raw(`{"id":`).Str(c.ID).Raw(`,"participants":`), c.Participants).Raw(`,"apps":`)
	jsonenc.Strs(&w, c.Apps).Raw(`,"cross_app":`).Bool(c.CrossApp).Raw(`,"closed":`).Bool(c.Closed)
	w.Raw(`,"closed_by_policy":`).Uint(c.ClosedByPolicy)
	w.Opt(`,"close_reason":`, c.CloseReason).Raw(`,"version":`).Uint(c.Version).Raw(`,"last_seq":`).Uint(c.LastSeq).Raw(`,"last_hash":`).Str(c.LastHash)
	w.Raw(`,"last_activity":`).Time(c.LastActivity).Raw(`,"messages":`).Uint(c.Messages)
	if lm := c.LastMessage; lm != nil {
		w.Raw(`,"last_message":{"seq":`).Uint(lm.Seq).Raw(`,"message_id":`).Str(lm.MessageID)
		w.Raw(`,"sender":`).Str(string(lm.Sender)).Raw(`,"text":`).Str(lm.Text).Raw(`}`)
	}
	if len(c.Unread) > 0 {
		w.Raw(`,"unread":{`)
		for i, a := range slices.Sorted(maps.Keys(c.Unread)) {
			if i > 0 {
				w.Raw(",")
			}
			w.Str(string(a)).Raw(":").Uint(c.Unread[a])
		}
		w.Raw("}")
	}
	if b, ok := w.Raw("}").Bytes(); ok {
		return b, nil
	}
	return json.Marshal(c)
}

// encodeInboxItem is json.Marshal(it).
func encodeInboxItem(it *inboxItem) ([]byte, error) {
	if it.LastMessage != nil && it.LastMessage.Erased != nil {
		return json.Marshal(it)
	}
	n := 256 + len(it.ConversationID)
	for _, p := range it.Participants {
		n += len(p) + 3
	}
	if lm := it.LastMessage; lm != nil {
		n += len(lm.MessageID) + len(lm.Sender) + len(lm.Text)
	}
	w := jsonenc.NewWriter(make([]byte, 0, n))
	jsonenc.Strs(w.Raw(`{"conversation_id":`).Str(it.ConversationID).Raw(`,"participants":`), it.Participants)
	w.Raw(`,"cross_app":`).Bool(it.CrossApp).Raw(`,"closed":`).Bool(it.Closed)
	w.Raw(`,"closed_by_policy":`).Uint(it.ClosedByPolicy).Raw(`,"last_activity":`).Time(it.LastActivity)
	if lm := it.LastMessage; lm != nil {
		w.Raw(`,"last_message":{"message_id":`).Str(lm.MessageID).Raw(`,"sender":`).Str(lm.Sender)
		w.Raw(`,"text":`).Str(lm.Text).Raw(`}`)
	}
	if b, ok := w.Raw(`,"unread":`).Int(int64(it.Unread)).Raw("}").Bytes(); ok {
		return b, nil
	}
	return json.Marshal(it)
}
