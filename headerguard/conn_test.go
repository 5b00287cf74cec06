package headerguard

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

// frame is one server-to-client protocol unit and what the guard must
// hand on for it.
type frame struct{ in, out string }

func hmsg(block, payload string) frame {
	out := []byte(block)
	if !Valid(out) {
		Neutralize(out)
	}
	line := fmt.Sprintf("HMSG a.b 1 _INBOX.x %d %d\r\n", len(block), len(block)+len(payload))
	return frame{line + block + payload + "\r\n", line + string(out) + payload + "\r\n"}
}

func same(s string) frame { return frame{s, s} }

// The guard follows the protocol whatever the socket's read sizes: it
// neutralizes exactly the malformed header blocks and hands on every other
// byte as it came, payloads that look like protocol lines included.
func TestConnFollowsTheProtocolInAnyChunks(t *testing.T) {
	frames := []frame{
		same("INFO {\"server_id\":\"x\",\"headers\":true}\r\n"), same("PING\r\n"), same("+OK\r\n"),
		same("MSG a.b 1 5\r\nhello\r\n"),
		same("MSG a.b 1 _INBOX.r 22\r\nHMSG a 1 10 999\r\nPING\r\n\r\n"),
		hmsg("NATS/1.0\r\nA: b\r\n\r\n", "payload\r\nMSG x 1 3"),
		hmsg("NATS/1.0\r\nX-A: b\n"+forged+"\r\n\r\n", `{"account":"instagram:alice"}`),
		hmsg("NATS/1.0\r\n"+forged+"\r\n\r\nA: b\r\n\r\n", ""),
		hmsg("NATS/1.0\n\n", "tiny"),
		same("-ERR 'Permissions Violation'\r\n"),
		hmsg("NATS/1.0 503\r\n\r\n", ""),
		same("PONG\r\n"),
	}
	var in, want strings.Builder
	for range 50 {
		for _, f := range frames {
			in.WriteString(f.in)
			want.WriteString(f.out)
		}
	}
	server, client := net.Pipe()
	defer client.Close()
	go func() {
		defer server.Close()
		b := []byte(in.String())
		for len(b) > 0 {
			n := min(len(b), 1+rand.IntN(700))
			if _, err := server.Write(b[:n]); err != nil {
				return
			}
			b = b[n:]
		}
	}()
	got, err := io.ReadAll(newConn(client, nil))
	if err != nil && err != io.ErrClosedPipe {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(want.String())) {
		t.Fatalf("guard handed on %d bytes that differ from the %d expected", len(got), want.Len())
	}
}

func TestConnRefusesAnEndlessLine(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	go func() {
		defer server.Close()
		_, _ = server.Write(bytes.Repeat([]byte("x"), maxLine+readSize+1))
	}()
	if _, err := io.ReadAll(newConn(client, nil)); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("read an endless line: %v", err)
	}
}

// rawPublish sends one HPUB with a header block as is, over a bare socket.
func rawPublish(t *testing.T, url, subject, block, payload string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "nats://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = fmt.Fprintf(c, "CONNECT {\"headers\":true,\"verbose\":false,\"protocol\":1}\r\nHPUB %s %d %d\r\n%s%s\r\nPING\r\n",
		subject, len(block), len(block)+len(payload), block, payload)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	lines := bufio.NewScanner(c)
	for lines.Scan() && lines.Text() != "PONG" { // the publish was taken once PONG comes
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
}

// Through a real nats-server, a subscriber on a guarded connection sees a
// bare-LF forgery as MalformedHeader alone, where nats.go alone sees the
// forged value; a well-formed header arrives untouched.
func TestGuardedConnectionAgainstARealServer(t *testing.T) {
	srv := natstest.Start(t)
	guarded := srv.Connect(t, Option(&Dialer{}))
	plain := srv.Connect(t)
	gsub, _ := guarded.SubscribeSync("forge")
	psub, _ := plain.SubscribeSync("forge")
	guarded.Flush()
	plain.Flush()

	rawPublish(t, srv.URL(), "forge", "NATS/1.0\r\nX-A: b\n"+forged+"\r\n\r\n", "{}")
	rawPublish(t, srv.URL(), "forge", "NATS/1.0\r\nNats-Msg-Id: 7\r\n\r\n", "{}")
	for i, want := range []string{MalformedHeader, "Nats-Msg-Id"} {
		m, err := gsub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Header) != 1 || m.Header.Get(want) == "" || string(m.Data) != "{}" {
			t.Errorf("guarded message %d: header %v data %q, want %s alone", i, m.Header, m.Data, want)
		}
	}
	m, err := psub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Nats-Request-Info") == "" {
		t.Errorf("nats.go alone no longer reads the forged header (%v): the guard's reason is gone, see docs/security.md", m.Header)
	}
	if !Guarded(guarded) || Guarded(plain) {
		t.Error("Guarded does not tell the guarded connection from the plain one")
	}
}

var _ nats.CustomDialer = (*Dialer)(nil)
