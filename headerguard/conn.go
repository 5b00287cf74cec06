package headerguard

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
)

// maxLine bounds a protocol line (an INFO, a MSG or HMSG line) the guard
// waits for: nats-server's INFO is a few KiB.
const maxLine = 64 << 10

// readSize is how much the guard asks of the socket at a time.
const readSize = 32 << 10

// ErrProtocol reports a server stream the guard cannot follow: a line
// longer than maxLine, or a MSG or HMSG line whose sizes do not parse.
var ErrProtocol = errors.New("headerguard: unexpected NATS protocol")

// conn follows the server-to-client half of the NATS protocol and checks
// every HMSG's header block before handing the bytes on. buf[r:c] are
// checked and may be read; buf[c:w] are received and not yet checked.
type conn struct {
	net.Conn
	buf     []byte
	r, c, w int
	// need is what the scanner waits for at buf[c:]: a protocol line when
	// it is 0, else that many bytes of a header block (hdr) or payload.
	need    int
	hdr     bool
	payload int // payload bytes (with the CRLF) after the current header
	err     error
}

func newConn(c net.Conn, pending []byte) *conn {
	g := &conn{Conn: c, buf: make([]byte, 0, readSize)}
	g.buf = append(g.buf, pending...)
	g.w = len(g.buf)
	g.buf = g.buf[:cap(g.buf)]
	return g
}

// Read returns checked bytes, reading and checking more when it has none.
func (g *conn) Read(p []byte) (int, error) {
	for g.r == g.c {
		if g.err != nil {
			return 0, g.err
		}
		g.scan()
		if g.r == g.c {
			g.fill()
		}
	}
	n := copy(p, g.buf[g.r:g.c])
	g.r += n
	return n, nil
}

// fill reads more from the socket, making room first.
func (g *conn) fill() {
	if g.r > 0 {
		n := copy(g.buf, g.buf[g.r:g.w])
		g.c -= g.r
		g.w, g.r = n, 0
	}
	if g.w == len(g.buf) {
		g.buf = append(g.buf, make([]byte, len(g.buf))...)
		g.buf = g.buf[:cap(g.buf)]
	}
	n, err := g.Conn.Read(g.buf[g.w:])
	g.w += n
	if err != nil && n == 0 {
		g.err = err
	}
}

// scan checks as much of buf[c:w] as it can, moving c past it.
func (g *conn) scan() {
	for g.c < g.w && g.err == nil {
		switch {
		case g.need == 0:
			if !g.line() {
				return
			}
		case g.hdr:
			if g.w-g.c < g.need {
				return // fill reads more, growing buf when it is full
			}
			if block := g.buf[g.c : g.c+g.need]; !Valid(block) {
				Neutralize(block)
			}
			g.c += g.need
			g.need, g.hdr = g.payload, false
		default:
			n := min(g.need, g.w-g.c)
			g.c += n
			g.need -= n
		}
	}
}

// line consumes one protocol line if whole, and notes the header and
// payload that follow a MSG or HMSG.
func (g *conn) line() bool {
	i := bytes.IndexByte(g.buf[g.c:g.w], '\n')
	if i < 0 {
		if g.w-g.c > maxLine {
			g.err = fmt.Errorf("%w: a line longer than %d bytes", ErrProtocol, maxLine)
		}
		return false
	}
	line := g.buf[g.c : g.c+i]
	g.c += i + 1
	hdr, total, err := sizes(line)
	switch {
	case err != nil:
		g.err = err
	case hdr > 0:
		g.need, g.hdr, g.payload = hdr, true, total-hdr+2
	case total >= 0:
		g.need = total + 2
	}
	return err == nil
}

// sizes reads a MSG line's payload size (hdr 0) or an HMSG line's header
// and total sizes; total is -1 for any other line. The sizes are the last
// fields of the line, whatever the subject, sid and reply before them.
func sizes(line []byte) (hdr, total int, err error) {
	line = bytes.TrimRight(line, "\r")
	op, _, _ := bytes.Cut(line, []byte(" "))
	isMsg, isHmsg := bytes.EqualFold(op, []byte("MSG")), bytes.EqualFold(op, []byte("HMSG"))
	if !isMsg && !isHmsg {
		return 0, -1, nil
	}
	rest, last := lastField(line)
	total, err = strconv.Atoi(string(last))
	if isHmsg && err == nil {
		_, h := lastField(rest)
		hdr, err = strconv.Atoi(string(h))
	}
	if err != nil || hdr < 0 || total < hdr {
		return 0, -1, fmt.Errorf("%w: %.64q", ErrProtocol, line)
	}
	return hdr, total, nil
}

// lastField splits the last space- or tab-separated field off line.
func lastField(line []byte) (rest, last []byte) {
	line = bytes.TrimRight(line, " \t")
	i := bytes.LastIndexAny(line, " \t")
	return line[:max(i, 0)], line[i+1:]
}
