package events

import (
	"encoding/json"
	"strconv"

	"github.com/crosstalk-dev/crosstalk/jsonenc"
)

// appendEvent appends e as json.Marshal encodes it, byte for byte, without
// reflection: the command path encodes one envelope per command. It reports
// false when it cannot promise those bytes (data that encoding/json would
// compact or escape, or refuse; a time it refuses); Encode then leaves e to
// encoding/json, which writes the same bytes or returns its error.
func appendEvent(b []byte, e Event) ([]byte, bool) {
	b = jsonenc.AppendField(b, `{"specversion":`, e.SpecVersion)
	b = jsonenc.AppendField(b, `,"id":`, e.ID)
	b = jsonenc.AppendField(b, `,"source":`, e.Source)
	b = jsonenc.AppendField(b, `,"type":`, string(e.Type))
	b = jsonenc.AppendField(b, `,"subject":`, e.Subject)
	b, ok := jsonenc.AppendTime(append(b, `,"time":`...), e.Time)
	if !ok {
		return nil, false
	}
	b = jsonenc.AppendField(b, `,"datacontenttype":`, e.DataContentType)
	b = jsonenc.AppendField(b, `,"causationid":`, e.CausationID)
	if e.Principal != "" { // omitempty
		b = jsonenc.AppendField(b, `,"principal":`, e.Principal)
	}
	if e.TraceParent != "" { // omitempty
		b = jsonenc.AppendField(b, `,"traceparent":`, e.TraceParent)
	}
	if e.TraceState != "" { // omitempty
		b = jsonenc.AppendField(b, `,"tracestate":`, e.TraceState)
	}
	b = strconv.AppendUint(append(b, `,"policyversion":`...), e.PolicyVersion, 10)
	b = strconv.AppendUint(append(b, `,"streamversion":`...), e.StreamVersion, 10)
	b = jsonenc.AppendField(b, `,"prevhash":`, e.PrevHash)
	b = append(b, `,"data":`...)
	switch {
	case e.Data == nil:
		b = append(b, "null"...) // json.RawMessage.MarshalJSON of nil
	case !jsonenc.CompactEscaped(e.Data):
		return nil, false
	case e.Payload == nil && !json.Valid(e.Data):
		// New's Data is valid: json.Marshal made it. Anything else is
		// checked, so that invalid data fails as json.Marshal fails.
		return nil, false
	default:
		b = append(b, e.Data...)
	}
	return append(b, '}'), true
}

// encodedSize estimates appendEvent's output, so that it allocates once.
func encodedSize(e Event) int {
	const fixed = 230 // names, punctuation, the time and the two versions
	n := fixed + len(e.SpecVersion) + len(e.ID) + len(e.Source) + len(e.Type) + len(e.Subject) +
		len(e.DataContentType) + len(e.CausationID) + len(e.PrevHash) + len(e.Data)
	if e.Principal != "" {
		n += len(`,"principal":""`) + len(e.Principal)
	}
	if e.TraceParent != "" || e.TraceState != "" {
		n += len(`,"traceparent":"","tracestate":""`) + len(e.TraceParent) + len(e.TraceState)
	}
	return n
}

// marshalData is json.Marshal(data), written by hand for the payloads that
// commands make on every request; other types (policy.published,
// command.rejected) go to encoding/json.
func marshalData(data any) ([]byte, error) {
	b := make([]byte, 0, 160)
	switch d := data.(type) {
	case MessageSentData:
		b = jsonenc.AppendField(b, `{"message_id":`, d.MessageID)
		b = jsonenc.AppendField(b, `,"sender":`, string(d.Sender))
		b = jsonenc.AppendField(b, `,"text":`, d.Text)
		b = appendSealed(b, d.Sealed)
	case MessageEditedData:
		b = jsonenc.AppendField(b, `{"message_id":`, d.MessageID)
		b = jsonenc.AppendField(b, `,"editor":`, string(d.Editor))
		b = jsonenc.AppendField(b, `,"text":`, d.Text)
		b = appendSealed(b, d.Sealed)
	case MessageUnsentData:
		b = jsonenc.AppendField(b, `{"message_id":`, d.MessageID)
		b = jsonenc.AppendField(b, `,"by":`, string(d.By))
	case MessageReactedData:
		b = jsonenc.AppendField(b, `{"message_id":`, d.MessageID)
		b = jsonenc.AppendField(b, `,"account":`, string(d.Account))
		b = jsonenc.AppendField(b, `,"reaction":`, d.Reaction)
		b = appendSealed(b, d.Sealed)
	case MessageReadData:
		b = jsonenc.AppendField(b, `{"message_id":`, d.MessageID)
		b = jsonenc.AppendField(b, `,"account":`, string(d.Account))
	default:
		return marshalOtherData(b, data)
	}
	return append(b, '}'), nil
}

// marshalOtherData is marshalData for the types that are not messages.
func marshalOtherData(b []byte, data any) ([]byte, error) {
	switch d := data.(type) {
	case ConversationStartedData:
		b = jsonenc.AppendField(b, `{"conversation_id":`, d.ConversationID)
		b = jsonenc.AppendField(b, `,"started_by":`, string(d.StartedBy))
		b = appendAccounts(append(b, `,"participants":`...), d.Participants)
		b = strconv.AppendBool(append(b, `,"cross_app":`...), d.CrossApp)
	case CallStartedData:
		b = jsonenc.AppendField(b, `{"call_id":`, d.CallID)
		b = jsonenc.AppendField(b, `,"by":`, string(d.By))
		b = jsonenc.AppendField(b, `,"media":`, d.Media)
	case CallEndedData:
		b = jsonenc.AppendField(b, `{"call_id":`, d.CallID)
		b = jsonenc.AppendField(b, `,"by":`, string(d.By))
	case ConversationClosedData:
		b = jsonenc.AppendField(b, `{"reason":`, d.Reason)
		b = strconv.AppendUint(append(b, `,"policy_version":`...), d.PolicyVersion, 10)
	case PresenceChangedData:
		b = jsonenc.AppendField(b, `{"account":`, string(d.Account))
		b = jsonenc.AppendField(b, `,"status":`, d.Status)
	case SettingsChangedData:
		b = jsonenc.AppendField(b, `{"account":`, string(d.Account))
		b = strconv.AppendBool(append(b, `,"show_activity_status":`...), d.ShowActivityStatus)
		b = strconv.AppendBool(append(b, `,"send_read_receipts":`...), d.SendReadReceipts)
		b = strconv.AppendBool(append(b, `,"interop_opt_in":`...), d.InteropOptIn)
	default:
		return json.Marshal(data)
	}
	return append(b, '}'), nil
}

// appendSealed appends the sealed field when there is one, as
// encoding/json does with omitempty.
func appendSealed(b []byte, sealed string) []byte {
	if sealed == "" {
		return b
	}
	return jsonenc.AppendField(b, `,"sealed":`, sealed)
}

// appendAccounts appends a list of accounts as encoding/json does: null
// for a nil slice.
func appendAccounts(b []byte, as []Account) []byte {
	if as == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, a := range as {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, string(a))
	}
	return append(b, ']')
}
