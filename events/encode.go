package events

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// appendEvent appends e as json.Marshal encodes it, byte for byte, without
// reflection: the command path encodes one envelope per command. It reports
// false when it cannot promise those bytes (data that encoding/json would
// compact or escape, or refuse; a time it refuses); Encode then leaves e to
// encoding/json, which writes the same bytes or returns its error.
func appendEvent(b []byte, e Event) ([]byte, bool) {
	b = appendField(b, `{"specversion":`, e.SpecVersion)
	b = appendField(b, `,"id":`, e.ID)
	b = appendField(b, `,"source":`, e.Source)
	b = appendField(b, `,"type":`, string(e.Type))
	b = appendField(b, `,"subject":`, e.Subject)
	b = append(b, `,"time":"`...)
	b, err := e.Time.AppendText(b) // what Time.MarshalJSON writes inside its quotes
	if err != nil {
		return nil, false
	}
	b = append(b, '"')
	b = appendField(b, `,"datacontenttype":`, e.DataContentType)
	b = appendField(b, `,"causationid":`, e.CausationID)
	if e.Principal != "" { // omitempty
		b = appendField(b, `,"principal":`, e.Principal)
	}
	if e.TraceParent != "" { // omitempty
		b = appendField(b, `,"traceparent":`, e.TraceParent)
	}
	if e.TraceState != "" { // omitempty
		b = appendField(b, `,"tracestate":`, e.TraceState)
	}
	b = strconv.AppendUint(append(b, `,"policyversion":`...), e.PolicyVersion, 10)
	b = strconv.AppendUint(append(b, `,"streamversion":`...), e.StreamVersion, 10)
	b = appendField(b, `,"prevhash":`, e.PrevHash)
	b = append(b, `,"data":`...)
	switch {
	case e.Data == nil:
		b = append(b, "null"...) // json.RawMessage.MarshalJSON of nil
	case !compactEscaped(e.Data):
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

func appendField(b []byte, name, value string) []byte {
	return appendString(append(b, name...), value)
}

// compactEscaped reports whether encoding/json writes raw, if it is valid
// JSON, as it is: with no space outside strings (it compacts a
// json.RawMessage) and no <, >, &, U+2028 or U+2029 (it escapes them). Data
// marshalled by New always is.
func compactEscaped(raw []byte) bool {
	inString, escaped := false, false
	for i, c := range raw {
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = inString
		case c == '"':
			inString = !inString
		case c == '<' || c == '>' || c == '&':
			return false
		case c == 0xE2 && i+2 < len(raw) && raw[i+1] == 0x80 && (raw[i+2] == 0xA8 || raw[i+2] == 0xA9):
			return false
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// appendString appends s quoted as encoding/json quotes strings with HTML
// escaping (its default): the short escapes \" \\ \b \f \n \r \t, \u00XX
// for other control bytes and for <, > and &, \u2028 and \u2029, and
// \ufffd for each byte of invalid UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = appendEscaped(append(b, s[start:i]...), c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

// appendEscaped appends the escape of one ASCII byte that encoding/json
// does not write as it is.
func appendEscaped(b []byte, c byte) []byte {
	switch c {
	case '\\', '"':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// marshalData is json.Marshal(data), written by hand for the payloads that
// commands make on every request; other types (policy.published,
// command.rejected) go to encoding/json.
func marshalData(data any) ([]byte, error) {
	b := make([]byte, 0, 160)
	switch d := data.(type) {
	case MessageSentData:
		b = appendField(b, `{"message_id":`, d.MessageID)
		b = appendField(b, `,"sender":`, string(d.Sender))
		b = appendField(b, `,"text":`, d.Text)
	case MessageEditedData:
		b = appendField(b, `{"message_id":`, d.MessageID)
		b = appendField(b, `,"editor":`, string(d.Editor))
		b = appendField(b, `,"text":`, d.Text)
	case MessageUnsentData:
		b = appendField(b, `{"message_id":`, d.MessageID)
		b = appendField(b, `,"by":`, string(d.By))
	case MessageReactedData:
		b = appendField(b, `{"message_id":`, d.MessageID)
		b = appendField(b, `,"account":`, string(d.Account))
		b = appendField(b, `,"reaction":`, d.Reaction)
	case MessageReadData:
		b = appendField(b, `{"message_id":`, d.MessageID)
		b = appendField(b, `,"account":`, string(d.Account))
	default:
		return marshalOtherData(b, data)
	}
	return append(b, '}'), nil
}

// marshalOtherData is marshalData for the types that are not messages.
func marshalOtherData(b []byte, data any) ([]byte, error) {
	switch d := data.(type) {
	case ConversationStartedData:
		b = appendField(b, `{"conversation_id":`, d.ConversationID)
		b = appendField(b, `,"started_by":`, string(d.StartedBy))
		b = appendAccounts(append(b, `,"participants":`...), d.Participants)
		b = strconv.AppendBool(append(b, `,"cross_app":`...), d.CrossApp)
	case CallStartedData:
		b = appendField(b, `{"call_id":`, d.CallID)
		b = appendField(b, `,"by":`, string(d.By))
		b = appendField(b, `,"media":`, d.Media)
	case CallEndedData:
		b = appendField(b, `{"call_id":`, d.CallID)
		b = appendField(b, `,"by":`, string(d.By))
	case ConversationClosedData:
		b = appendField(b, `{"reason":`, d.Reason)
		b = strconv.AppendUint(append(b, `,"policy_version":`...), d.PolicyVersion, 10)
	case PresenceChangedData:
		b = appendField(b, `{"account":`, string(d.Account))
		b = appendField(b, `,"status":`, d.Status)
	case SettingsChangedData:
		b = appendField(b, `{"account":`, string(d.Account))
		b = strconv.AppendBool(append(b, `,"show_activity_status":`...), d.ShowActivityStatus)
		b = strconv.AppendBool(append(b, `,"send_read_receipts":`...), d.SendReadReceipts)
		b = strconv.AppendBool(append(b, `,"interop_opt_in":`...), d.InteropOptIn)
	default:
		return json.Marshal(data)
	}
	return append(b, '}'), nil
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
		b = appendString(b, string(a))
	}
	return append(b, ']')
}
