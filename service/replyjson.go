package service

import (
	"strconv"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/internal/jsonenc"
)

// encodeCommandReply is appendCommandReply for a handler's result, when it
// is a CommandReply.
func encodeCommandReply(res any) ([]byte, bool) {
	r, ok := res.(api.CommandReply)
	if !ok {
		return nil, false
	}
	return appendCommandReply(make([]byte, 0, 256), r)
}

// appendCommandReply appends r as json.Marshal encodes it, byte for byte,
// without reflection: every command's reply goes through here. ok is false
// when a string of r holds a byte that json.Marshal would escape (ids and
// subjects never do); the caller then uses json.Marshal.
func appendCommandReply(b []byte, r api.CommandReply) (_ []byte, ok bool) {
	for _, s := range [...]string{r.ConversationID, r.Account, r.MessageID, r.CallID, r.EventID, string(r.Position)} {
		if !jsonenc.Plain(s) {
			return b, false
		}
	}
	b = append(b, '{')
	b = appendOptional(b, `"conversation_id":"`, r.ConversationID)
	b = appendOptional(b, `"account":"`, r.Account)
	b = appendOptional(b, `"message_id":"`, r.MessageID)
	b = appendOptional(b, `"call_id":"`, r.CallID)
	b = append(b, `"event_id":"`...)
	b = append(b, r.EventID...)
	b = append(b, `","stream_seq":`...)
	b = strconv.AppendUint(b, r.StreamSeq, 10)
	b = append(b, `,"position":"`...)
	b = append(b, r.Position...)
	b = append(b, `","version":`...)
	b = strconv.AppendUint(b, r.Version, 10)
	b = append(b, `,"policy_version":`...)
	b = strconv.AppendUint(b, r.PolicyVersion, 10)
	if r.Duplicate {
		b = append(b, `,"duplicate":true`...)
	}
	return append(b, '}'), true
}

// appendOptional appends an omitempty string field and its comma.
func appendOptional(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, key...)
	b = append(b, v...)
	return append(b, `",`...)
}
