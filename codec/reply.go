package codec

import (
	"encoding/json"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/jsonenc"
)

// AppendCommandReply appends r as json.Marshal encodes it, byte for byte,
// without reflection: every command's reply goes through here. ok is false
// when a string of r holds a byte that json.Marshal would escape (ids and
// subjects never do); the caller then uses json.Marshal, and discards b.
func AppendCommandReply(b []byte, r api.CommandReply) (_ []byte, ok bool) {
	w := jsonenc.NewWriter(b)
	w.Raw("{")
	optBefore(&w, `"conversation_id":`, r.ConversationID)
	optBefore(&w, `"account":`, r.Account)
	optBefore(&w, `"message_id":`, r.MessageID)
	optBefore(&w, `"call_id":`, r.CallID)
	w.Raw(`"event_id":`).Str(r.EventID).Raw(`,"stream_seq":`).Uint(r.StreamSeq)
	w.Raw(`,"position":`).Str(string(r.Position)).Raw(`,"version":`).Uint(r.Version)
	w.Raw(`,"policy_version":`).Uint(r.PolicyVersion)
	if r.Duplicate {
		w.Raw(`,"duplicate":true`)
	}
	return w.Raw("}").Bytes()
}

// optBefore writes an omitempty string field that another field follows.
func optBefore(w *jsonenc.Writer, name, v string) {
	if v != "" {
		w.Raw(name).Str(v).Raw(",")
	}
}

// ReplyFor builds the reply for event e stored at seq: its subject names
// the account or the conversation, as the type's subject kind says.
func ReplyFor(e events.Event, seq uint64) api.CommandReply {
	r := api.CommandReply{EventID: e.ID, StreamSeq: seq, Position: api.PositionAt(seq),
		Version: e.StreamVersion, PolicyVersion: e.PolicyVersion}
	info, _ := events.Lookup(e.Type)
	switch info.Subject {
	case events.SubjectAccount:
		r.Account = e.Subject
	case events.SubjectPolicy:
	default:
		r.ConversationID = e.Subject
	}
	r.MessageID, r.CallID = dataIDs(e)
	return r
}

// dataIDs returns the message_id and call_id of e's data: from the typed
// payload of an event just decided, without parsing Data again, or else
// from Data (an event read back from the log).
func dataIDs(e events.Event) (messageID, callID string) {
	if p, ok := e.Payload.(events.Payload); ok {
		return p.IDs()
	}
	var ids struct {
		MessageID string `json:"message_id"`
		CallID    string `json:"call_id"`
	}
	if json.Unmarshal(e.Data, &ids) == nil {
		return ids.MessageID, ids.CallID
	}
	return "", ""
}
