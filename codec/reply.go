package codec

import (
	"github.com/crosstalk-dev/crosstalk/api"
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
