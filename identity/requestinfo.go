package identity

import (
	"errors"
	"strings"
)

// ErrDuplicateInfo reports a request whose headers hold Nats-Request-Info
// more than once, under any spelling of the name: nats-server writes one
// value, so another came from the client. Which one the server wrote is
// not the reader's to guess; the request is refused.
var ErrDuplicateInfo = errors.New("the request names its caller more than once")

// ErrMissingInfo reports a request that crossed a service import yet
// carries no Nats-Request-Info the reader can see: the server wrote one,
// so the client hid it (for example by ending its header block early).
var ErrMissingInfo = errors.New("a request from outside the service's account names no caller")

// responsePrefix is how nats-server begins the reply subject it gives a
// request that crosses a service import (server.replyPrefix): the
// exporter never sees the importer's own reply subject.
const responsePrefix = "_R_."

// CrossedImport reports whether a request with this reply subject may have
// come through a service import: its reply is the server's response
// subject, or it has none. A request from inside the service's account
// keeps the reply its sender chose.
func CrossedImport(reply string) bool {
	return reply == "" || strings.HasPrefix(reply, responsePrefix)
}

// RequestInfo returns the one Nats-Request-Info value of a request with
// headers h and reply subject reply: "" for a request from inside the
// service's account, which crossed no import. Header names are compared
// without case, because nats-server replaces only the exact spelling.
func RequestInfo(h map[string][]string, reply string) (string, error) {
	var info string
	n := 0
	for k, vs := range h {
		if len(k) == len(RequestInfoHeader) && strings.EqualFold(k, RequestInfoHeader) {
			n += len(vs)
			if len(vs) > 0 {
				info = vs[0]
			}
		}
	}
	switch {
	case n > 1:
		return "", ErrDuplicateInfo
	case n == 0 && CrossedImport(reply):
		return "", ErrMissingInfo
	}
	return info, nil
}
