package service

import "bytes"

// A fast path for the command bodies producers send: flat objects of
// strings and lists of strings, without escapes.

// decodePlain decodes body into r as json.Unmarshal would when every value
// is null, a string without escapes or a list of such strings, which is
// what producers send; otherwise it changes nothing and reports false.
// body is valid JSON, an object whose keys are all r's own, exactly.
func (r *convRequest) decodePlain(body []byte) bool {
	d := *r
	p := plainScanner{b: body}
	if !p.byte('{') {
		return false
	}
	for !p.byte('}') {
		p.byte(',')
		// A key is only compared, so its string stays on the stack:
		// no allocation per key.
		key, ok := p.raw()
		if !ok || !p.byte(':') || !d.setPlain(string(key), &p) {
			return false
		}
	}
	*r = d
	return true
}

// setPlain decodes the value of field key from p.
func (r *convRequest) setPlain(key string, p *plainScanner) bool {
	if key == "participants" {
		list, ok := p.list()
		r.Participants = list
		return ok
	}
	isNull := p.null()
	var v string
	if !isNull {
		var ok bool
		if v, ok = p.str(); !ok {
			return false
		}
	}
	switch key {
	case "text", "reaction":
		ptr := &r.Text
		if key == "reaction" {
			ptr = &r.Reaction
		}
		*ptr = nil // null clears a pointer
		if !isNull {
			*ptr = &v
		}
		return true
	}
	if isNull {
		return true // null leaves a string as it is
	}
	switch key {
	case "command_id":
		r.CommandID = v
	case "actor":
		r.Actor = v
	case "conversation_id":
		r.ConversationID = v
	case "message_id":
		r.MessageID = v
	case "call_id":
		r.CallID = v
	case "media":
		r.Media = v
	default:
		return false
	}
	return true
}

// plainScanner reads the few JSON shapes decodePlain accepts from valid
// JSON.
type plainScanner struct {
	b []byte
	i int
}

func (p *plainScanner) skipSpace() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

// byte consumes c if it comes next.
func (p *plainScanner) byte(c byte) bool {
	p.skipSpace()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// null consumes a null if it comes next.
func (p *plainScanner) null() bool {
	p.skipSpace()
	if bytes.HasPrefix(p.b[p.i:], []byte("null")) {
		p.i += 4
		return true
	}
	return false
}

// str consumes a string without escapes.
func (p *plainScanner) str() (string, bool) {
	b, ok := p.raw()
	return string(b), ok
}

// raw consumes a string without escapes and returns its bytes in the body.
func (p *plainScanner) raw() ([]byte, bool) {
	if !p.byte('"') {
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

// list consumes null or a list of strings without escapes.
func (p *plainScanner) list() ([]string, bool) {
	if p.null() {
		return nil, true
	}
	if !p.byte('[') {
		return nil, false
	}
	list := []string{}
	for !p.byte(']') {
		if len(list) > 0 && !p.byte(',') {
			return nil, false
		}
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		list = append(list, s)
	}
	return list, true
}
