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
	return fixed + len(e.SpecVersion) + len(e.ID) + len(e.Source) + len(e.Type) + len(e.Subject) +
		len(e.DataContentType) + len(e.CausationID) + len(e.PrevHash) + len(e.Data)
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
