// Package headerguard makes a NATS connection read message headers the way
// nats-server writes them, so that a client cannot make the reader see a
// header the server never checked.
//
// nats-server and nats.go disagree about where a header line ends: the
// server's header functions (removeHeaderIfPresent, sliceHeader) know only
// CRLF, while nats.go's DecodeHeadersMsg also splits on a bare LF, stops at
// the first empty line, and drops the whole header on a line it cannot read.
// When a request crosses a service import the server strips the client's
// copies of Nats-Request-Info that follow a CRLF and appends its own; a
// copy behind a bare LF survives, and nats.go's Header.Get returns it
// first. A header block that ends early hides the server's copy from
// nats.go altogether. docs/security.md has the minimal reproduction.
//
// The guard sits between the socket and nats.go (a nats.CustomDialer) and
// checks every header block against the strict grammar before nats.go sees
// it. A block that breaks it is replaced, byte for byte in length, by one
// that says only MalformedHeader, so the reader refuses the message instead
// of guessing. Well-formed blocks pass untouched.
package headerguard

// MalformedHeader is the only header of a message whose header block broke
// the strict grammar: its reader must refuse the message. A client may send
// it too; that only makes its own request refused.
const MalformedHeader = "Crosstalk-Malformed-Header"

// version is how every header block starts.
const version = "NATS/1.0"

// Valid reports whether block is a header block in the strict grammar that
// nats-server's header functions assume:
//
//	block  = "NATS/1.0" [ SP 3DIGIT [ SP text ] ] CRLF *( field CRLF ) CRLF
//	field  = token ":" value
//	token  = 1*tchar                 (RFC 9110)
//	value  = *( HTAB / SP / VCHAR / obs-text )
//
// so no bare CR or LF, no empty line before the last, no folded or nameless
// line, and nothing after the final CRLF.
func Valid(block []byte) bool {
	line, rest, ok := cutLine(block)
	if !ok || !validStatusLine(line) {
		return false
	}
	for {
		line, rest, ok = cutLine(rest)
		switch {
		case !ok:
			return false
		case len(line) == 0:
			return len(rest) == 0
		case !validField(line):
			return false
		}
	}
}

// cutLine splits b at its first CRLF. A CR or LF anywhere else in the line
// makes the line invalid, which the field and status checks see, since
// neither allows CR or LF.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			return b[:i], b[i+2:], true
		}
		if b[i] == '\n' {
			return nil, nil, false
		}
	}
	return nil, nil, false
}

func validStatusLine(line []byte) bool {
	if len(line) < len(version) || string(line[:len(version)]) != version {
		return false
	}
	s := line[len(version):]
	if len(s) == 0 {
		return true
	}
	if len(s) < 4 || s[0] != ' ' || !digit(s[1]) || !digit(s[2]) || !digit(s[3]) {
		return false
	}
	s = s[4:]
	if len(s) == 0 {
		return true
	}
	return s[0] == ' ' && validValue(s[1:])
}

func validField(line []byte) bool {
	i := 0
	for i < len(line) && tchar(line[i]) {
		i++
	}
	return i > 0 && i < len(line) && line[i] == ':' && validValue(line[i+1:])
}

func validValue(v []byte) bool {
	for _, c := range v {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func digit(c byte) bool { return '0' <= c && c <= '9' }

// tchar reports whether c may appear in a header name (RFC 9110 token).
func tchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', digit(c):
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// minMarked is the shortest block that can carry MalformedHeader.
const minMarked = len(version) + 2 + len(MalformedHeader) + 1 + 4

// Neutralize overwrites block, keeping its length, with a valid block whose
// only header is MalformedHeader (its value padding). A block too short to
// carry it becomes one that nats.go cannot decode at all: the message then
// arrives with no header, which a reader that requires one refuses.
func Neutralize(block []byte) {
	if len(block) < minMarked {
		for i := range block {
			block[i] = ' '
		}
		return
	}
	n := copy(block, version+"\r\n"+MalformedHeader+":")
	end := len(block) - 4
	for i := n; i < end; i++ {
		block[i] = '-'
	}
	copy(block[end:], "\r\n\r\n")
}
