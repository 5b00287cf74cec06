package events

import (
	"strconv"
	"unicode/utf8"
)

// maxQuoted is api.MaxQuoted (package events imports nothing of crosstalk;
// a service test pins the two equal).
const maxQuoted = 64

// Quote returns v as a Go-quoted string for an error message, cut to its
// first 64 bytes (on a character boundary) and ended with "…" when longer.
// Every error that echoes a value a producer sent quotes it with Quote: an
// echo of the whole value could make the reply, header and body both,
// larger than a NATS message may be, and the producer would get no answer.
func Quote(v string) string {
	if len(v) <= maxQuoted {
		return strconv.Quote(v)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strconv.Quote(v[:cut]) + "…"
}
