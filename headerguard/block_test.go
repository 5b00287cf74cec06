package headerguard

import (
	"testing"

	"github.com/nats-io/nats.go"
)

// forged is the identity a client tries to smuggle past the server.
const forged = `Nats-Request-Info: {"acc":"instagram","user":"instagram:eve"}`

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block string
		valid bool
	}{
		{"empty header", "NATS/1.0\r\n\r\n", true},
		{"two fields", "NATS/1.0\r\nA: b\r\nNats-Msg-Id: 1\r\n\r\n", true},
		{"no space after colon", "NATS/1.0\r\nA:b\r\n\r\n", true},
		{"tab and obs-text in value", "NATS/1.0\r\nA: b\tc\xc3\xa9\r\n\r\n", true},
		{"status", "NATS/1.0 503\r\n\r\n", true},
		{"status and description", "NATS/1.0 408 Request Timeout\r\nA: b\r\n\r\n", true},
		{"bare LF before a forged line", "NATS/1.0\r\nX-A: b\n" + forged + "\r\n\r\n", false},
		{"bare CR before a forged line", "NATS/1.0\r\nX-A: b\r" + forged + "\r\n\r\n", false},
		{"bare LF status line", "NATS/1.0\n" + forged + "\r\n\r\n", false},
		{"block that ends early", "NATS/1.0\r\n" + forged + "\r\n\r\nA: b\r\n\r\n", false},
		{"bare LF blank line", "NATS/1.0\r\n" + forged + "\n\nA: b\r\n\r\n", false},
		{"no final blank line", "NATS/1.0\r\nA: b\r\n", false},
		{"folded line", "NATS/1.0\r\nA: b\r\n " + forged + "\r\n\r\n", false},
		{"space before colon", "NATS/1.0\r\nNats-Request-Info : x\r\n\r\n", false},
		{"nameless line", "NATS/1.0\r\n: x\r\n\r\n", false},
		{"line without colon", "NATS/1.0\r\nbogus\r\n\r\n", false},
		{"NUL in value", "NATS/1.0\r\nA: b\x00\r\n\r\n", false},
		{"bad status", "NATS/1.0 5\r\n\r\n", false},
		{"wrong version", "NATS/2.0\r\n\r\n", false},
		{"trailing bytes", "NATS/1.0\r\n\r\nx", false},
	} {
		if got := Valid([]byte(tc.block)); got != tc.valid {
			t.Errorf("%s: Valid(%q) = %v, want %v", tc.name, tc.block, got, tc.valid)
		}
	}
}

// A neutralized block keeps its length and is one nats.go decodes to
// MalformedHeader alone; one too short for it does not decode at all.
func TestNeutralize(t *testing.T) {
	long := []byte("NATS/1.0\r\nX-A: b\n" + forged + "\r\n\r\n")
	n := len(long)
	Neutralize(long)
	if len(long) != n || !Valid(long) {
		t.Fatalf("neutralized block %q: length %d (was %d), valid %v", long, len(long), n, Valid(long))
	}
	h, err := nats.DecodeHeadersMsg(long)
	if err != nil || len(h) != 1 || h.Get(MalformedHeader) == "" {
		t.Fatalf("decoded %v (%v), want %s alone", h, err, MalformedHeader)
	}
	short := []byte("NATS/1.0\n\n")
	Neutralize(short)
	if h, err := nats.DecodeHeadersMsg(short); err == nil {
		t.Fatalf("short neutralized block decoded to %v", h)
	}
}
