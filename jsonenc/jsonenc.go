// Package jsonenc is crosstalk's one home for hand-written JSON: the
// primitives that the event envelope (events), the projector's records,
// the service's request codec and replies (codec) and the live feeds'
// notifications (feed) share, so that each of those keeps only the shape
// of its own records. Every writer here produces byte for byte what
// encoding/json writes (with its default HTML escaping), and every scanner
// reads only what encoding/json would read the same way; one fuzz harness
// (FuzzPrimitives) holds them to encoding/json. Standard library only, so
// that events and aggregate may import it; it stands at the top level, on
// the ground floor under events, rather than in internal/, whose test
// helpers import events.
package jsonenc

import (
	"time"
	"unicode/utf8"
)

// Plain reports whether json.Marshal writes s as it is between quotes:
// printable ASCII but for the quote, the backslash and the characters it
// escapes for HTML (<, >, &).
func Plain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// AppendString appends s quoted as encoding/json quotes strings with HTML
// escaping (its default): the short escapes \" \\ \b \f \n \r \t, \u00XX
// for other control bytes and for <, > and &, \u2028 and \u2029, and
// \ufffd for each byte of invalid UTF-8.
func AppendString(b []byte, s string) []byte {
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

// AppendField appends name (the key with its quotes, colon and any
// leading comma, written as it is) and value quoted as AppendString does.
func AppendField(b []byte, name, value string) []byte {
	return AppendString(append(b, name...), value)
}

// AppendTime appends t quoted as Time.MarshalJSON writes it; ok is false
// for a time it refuses (a year outside 0..9999), and b is then unchanged.
func AppendTime(b []byte, t time.Time) (_ []byte, ok bool) {
	out, err := t.AppendText(append(b, '"'))
	if err != nil {
		return b, false
	}
	return append(out, '"'), true
}

// CompactEscaped reports whether encoding/json writes raw, if it is valid
// JSON, as it is (as a json.RawMessage): with no space outside strings (it
// compacts a json.RawMessage) and no <, >, &, U+2028 or U+2029 (it escapes
// them).
func CompactEscaped(raw []byte) bool {
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
