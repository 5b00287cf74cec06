package headerguard

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
)

// readerConn is a net.Conn that only reads, from r.
type readerConn struct {
	net.Conn
	r io.Reader
}

func (c readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// requests are n HMSGs shaped as a command crossing an import: the
// server's Nats-Request-Info, a traceparent, and a message.send body.
func requests(n int) []byte {
	block := "NATS/1.0\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n" +
		`Nats-Request-Info: {"start":"2026-12-07T10:00:00.123456789Z","host":"127.0.0.1","id":42,"acc":"instagram","user":"instagram-backend","server":"NDZ5N6Q","rtt":"120µs"}` + "\r\n\r\n"
	body := `{"command_id":"0b9d3f0e-6a51-4c8e-9d0c-2f1f1d3b7a10","actor":"instagram:alice","conversation_id":"4dae13ec-2125-5bae-b974-2a8966ca2dff","text":"` +
		string(bytes.Repeat([]byte("x"), 160)) + `"}`
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "HMSG crosstalk.cmd.instagram.message.send %d _R_.abc123.def456 %d %d\r\n%s%s\r\n",
			i%64, len(block), len(block)+len(body), block, body)
	}
	return b.Bytes()
}

// BenchmarkGuard is the guard's CPU per request message against copying
// the same bytes unguarded: what each request pays for it.
func BenchmarkGuard(b *testing.B) {
	const batch = 1024
	stream := requests(batch)
	buf := make([]byte, readSize)
	for _, guarded := range []bool{false, true} {
		b.Run(fmt.Sprintf("guarded=%v", guarded), func(b *testing.B) {
			b.SetBytes(int64(len(stream) / batch))
			for i := 0; i < b.N; i += batch {
				var c io.Reader = bytes.NewReader(stream)
				if guarded {
					c = newConn(readerConn{r: c}, nil)
				}
				for {
					if _, err := c.Read(buf); err != nil {
						break
					}
				}
			}
		})
	}
}
