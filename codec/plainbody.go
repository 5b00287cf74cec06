package codec

import "github.com/crosstalk-dev/crosstalk/jsonenc"

// A fast path for the command bodies producers send: flat objects of
// strings and lists of strings, without escapes.

// decodePlain decodes body into r as json.Unmarshal would when every value
// is null, a string without escapes or a list of such strings, which is
// what producers send; otherwise it changes nothing and reports false.
// body is valid JSON, an object whose keys are all r's own, exactly.
func (r *convRequest) decodePlain(body []byte) bool {
	d := *r
	p := jsonenc.NewScanner(body)
	if !p.Byte('{') {
		return false
	}
	for !p.Byte('}') {
		p.Byte(',')
		// A key is only compared, so its string stays on the stack:
		// no allocation per key.
		key, ok := p.RawText()
		if !ok || !p.Byte(':') || !d.setPlain(string(key), &p) {
			return false
		}
	}
	*r = d
	return true
}

// setPlain decodes the value of field key from p.
func (r *convRequest) setPlain(key string, p *jsonenc.Scanner) bool {
	if key == "participants" {
		list, ok := p.Texts()
		r.Participants = list
		return ok
	}
	isNull := p.Null()
	var v string
	if !isNull {
		var ok bool
		if v, ok = p.Text(); !ok {
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
