package jsonenc

import "bytes"

// Scanner reads, from JSON that encoding/json has already found valid
// (and valid UTF-8, which encoding/json would replace otherwise),
// the few shapes that producers send in flat request bodies: punctuation,
// null, strings without escapes and lists of such strings. Each method
// consumes what it reads if it comes next and reports false otherwise; a
// caller that meets false leaves the body to encoding/json.
type Scanner struct {
	b []byte
	i int
}

// NewScanner returns a Scanner at the start of body.
func NewScanner(body []byte) Scanner { return Scanner{b: body} }

func (p *Scanner) skipSpace() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

// Byte consumes c, after any space, if it comes next.
func (p *Scanner) Byte(c byte) bool {
	p.skipSpace()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// Null consumes a null if it comes next.
func (p *Scanner) Null() bool {
	p.skipSpace()
	if bytes.HasPrefix(p.b[p.i:], []byte("null")) {
		p.i += 4
		return true
	}
	return false
}

// Text consumes a string without escapes.
func (p *Scanner) Text() (string, bool) {
	b, ok := p.RawText()
	return string(b), ok
}

// RawText consumes a string without escapes and returns its bytes in the
// body, without copying: a key that is only compared stays on the stack.
func (p *Scanner) RawText() ([]byte, bool) {
	if !p.Byte('"') {
		return nil, false
	}
	end := bytes.IndexByte(p.b[p.i:], '"')
	if end < 0 || bytes.IndexByte(p.b[p.i:p.i+end], '\\') >= 0 {
		return nil, false
	}
	b := p.b[p.i : p.i+end]
	p.i += end + 1
	return b, true
}

// Texts consumes null (nil) or a list of strings without escapes.
func (p *Scanner) Texts() ([]string, bool) {
	if p.Null() {
		return nil, true
	}
	if !p.Byte('[') {
		return nil, false
	}
	list := []string{}
	for !p.Byte(']') {
		if len(list) > 0 && !p.Byte(',') {
			return nil, false
		}
		s, ok := p.Text()
		if !ok {
			return nil, false
		}
		list = append(list, s)
	}
	return list, true
}

// EachKey calls fn with each key of body's top-level object, in order,
// until fn fails, without decoding the values. body must be valid JSON; if
// it is not an object there is nothing to call. It stops and reports false
// at the first key with an escape, which the caller must then unescape
// (with encoding/json) and check itself.
func EachKey(body []byte, fn func([]byte) error) (bool, error) {
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return true, nil
	}
	depth, keyNext := 0, false
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{', '[':
			depth++
			keyNext = depth == 1
		case '}', ']':
			depth--
		case ',':
			keyNext = depth == 1
		case '"':
			end := stringEnd(body, i)
			if keyNext {
				if bytes.IndexByte(body[i+1:end], '\\') >= 0 {
					return false, nil
				}
				if err := fn(body[i+1 : end]); err != nil {
					return true, err
				}
				keyNext = false
			}
			i = end
		}
	}
	return true, nil
}

// stringEnd returns the index of the quote that closes the JSON string
// opening at body[start].
func stringEnd(body []byte, start int) int {
	i := start + 1
	for body[i] != '"' {
		if body[i] == '\\' {
			i++
		}
		i++
	}
	return i
}
