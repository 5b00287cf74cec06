// Package jsonenc holds what crosstalk's hand-written JSON encoders share:
// the projector's records, the service's replies and the live feeds'
// notifications are written byte for byte as encoding/json writes them,
// without reflection, and each falls back to encoding/json for a string
// that needs escaping. Which strings need it is decided here, once.
package jsonenc

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
