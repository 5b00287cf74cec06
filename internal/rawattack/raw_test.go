package rawattack

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawConn is a NATS client written by hand: it sends header blocks exactly
// as given, which nats.go would not.
type rawConn struct {
	c     net.Conn
	r     *bufio.Reader
	inbox string
	n     int
}

// reply is what came back on the inbox: the service's error status, if
// any, and the body.
type reply struct {
	status string
	body   []byte
}

func dialRaw(t *testing.T, url, user, password, inbox string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "nats://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{c: c, r: bufio.NewReader(c), inbox: inbox}
	connect, _ := json.Marshal(map[string]any{"user": user, "pass": password, "headers": true,
		"verbose": false, "pedantic": false, "protocol": 1, "no_responders": true})
	rc.send(t, "CONNECT %s\r\nSUB %s.> 1\r\nPING\r\n", connect, inbox)
	for {
		line := rc.line(t)
		if line == "PONG" {
			return rc
		}
		if strings.HasPrefix(line, "-ERR") {
			t.Fatalf("connect as %s: %s", user, line)
		}
	}
}

func (rc *rawConn) send(t *testing.T, format string, args ...any) {
	t.Helper()
	if _, err := fmt.Fprintf(rc.c, format, args...); err != nil {
		t.Fatal(err)
	}
}

func (rc *rawConn) line(t *testing.T) string {
	t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := rc.r.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

// request publishes payload on subject with the header block as given and
// returns the first reply on a fresh inbox subject.
func (rc *rawConn) request(t *testing.T, subject, block, payload string) reply {
	t.Helper()
	rc.n++
	inbox := rc.inbox + "." + strconv.Itoa(rc.n)
	rc.send(t, "HPUB %s %s %d %d\r\n%s%s\r\n", subject, inbox, len(block), len(block)+len(payload), block, payload)
	for {
		f := strings.Fields(rc.line(t))
		switch {
		case len(f) > 0 && f[0] == "PING":
			rc.send(t, "PONG\r\n")
		case len(f) > 0 && f[0] == "-ERR":
			t.Fatalf("%s: %s", subject, strings.Join(f, " "))
		case len(f) >= 4 && (f[0] == "MSG" || f[0] == "HMSG") && f[1] == inbox:
			return rc.readReply(t, f)
		}
	}
}

// readReply reads the body of a MSG or HMSG line's message.
func (rc *rawConn) readReply(t *testing.T, f []string) reply {
	t.Helper()
	hdr, total := 0, atoi(t, f[len(f)-1])
	if f[0] == "HMSG" {
		hdr = atoi(t, f[len(f)-2])
	}
	buf := make([]byte, total+2)
	if _, err := io.ReadFull(rc.r, buf); err != nil {
		t.Fatal(err)
	}
	r := reply{body: buf[hdr:total]}
	for _, l := range strings.Split(string(buf[:hdr]), "\r\n") {
		if v, ok := strings.CutPrefix(l, "Nats-Service-Error-Code: "); ok {
			r.status = v
		}
		if strings.HasPrefix(l, "NATS/1.0 503") {
			r.status = "503 no responders"
		}
	}
	return r
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("size %q: %v", s, err)
	}
	return n
}
