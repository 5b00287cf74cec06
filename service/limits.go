package service

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/crosstalk-dev/crosstalk/identity"
)

// Errors of the service's own limits.
var (
	// ErrTooManyRequests reports a request refused because its connection
	// (or principal) has as many requests of its kind in flight as one may.
	ErrTooManyRequests = errors.New("too many requests")
	// ErrTooLarge reports a command whose event would not fit a NATS
	// message.
	ErrTooLarge = errors.New("too large")
)

// limiter bounds the requests of one kind (commands or queries) handled at
// once: at most cap(slots) in all, more wait for a slot; and at most perConn
// from one connection, more are refused at once. Commands and queries each
// have their own, so that queries kept waiting (for a min_seq, say) never
// hold a slot a command needs; the share per connection keeps one producer
// from taking every slot of either.
type limiter struct {
	kind string
	// principals are the per-principal budgets of the same requests.
	principals *budgets
	slots      chan struct{}
	perConn    int
	mu         sync.Mutex
	byConn     map[string]int
	// shed counts the refusals of a connection beyond perConn, all
	// connections together, for the log (shedlog.go).
	shed shedCount
}

// admit lets a request of p on conn in, or refuses it: first against p's
// budget (budgets.take), then for a slot (acquire). perr is the error of
// reading p; such a request takes a slot only, to be refused by its
// handler. Give the budget back with leave.
func (l *limiter) admit(p identity.Principal, perr error, conn string) (*budget, error) {
	var bg *budget
	if perr == nil {
		var err error
		if bg, err = l.principals.take(p, conn); err != nil {
			return nil, err
		}
	}
	if err := l.acquire(conn); err != nil {
		bg.done()
		return nil, err
	}
	return bg, nil
}

// leave gives back what admit took.
func (l *limiter) leave(bg *budget, conn string) {
	l.release(conn)
	bg.done()
}

func newLimiter(kind string, slots, perConn int) *limiter {
	return &limiter{kind: kind, slots: make(chan struct{}, slots), perConn: min(max(perConn, 1), slots), byConn: map[string]int{}}
}

// acquire takes a slot for conn, waiting while every slot is taken. It
// refuses at once, with ErrTooManyRequests, when conn holds or waits for
// perConn slots already: waiting would hold up the endpoint's other callers
// too, since micro delivers an endpoint's requests one at a time.
func (l *limiter) acquire(conn string) error {
	l.mu.Lock()
	if l.byConn[conn] >= l.perConn {
		l.mu.Unlock()
		err := fmt.Errorf("%w: this connection has %d %s in flight, the most one connection may; retry once one is answered",
			ErrTooManyRequests, l.perConn, l.kind)
		if n := l.shed.add(time.Now()); n > 0 && l.principals != nil && l.principals.log != nil {
			l.principals.log.Warn("service sheds requests beyond a connection's share (429)",
				slog.String("class", l.kind), slog.Int64("refused", n), slog.Duration("per", shedLogEvery))
		}
		return err
	}
	l.byConn[conn]++
	l.mu.Unlock()
	l.slots <- struct{}{}
	return nil
}

// release gives back conn's slot.
func (l *limiter) release(conn string) {
	<-l.slots
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byConn[conn]--; l.byConn[conn] <= 0 {
		delete(l.byConn, conn)
	}
}

// inFlight reports how many requests hold a slot.
func (l *limiter) inFlight() int { return len(l.slots) }

// connectionOf names who a request counts against: the connection, known
// by its reply subject's inbox prefix, except for an authenticated end
// user, whose every connection shares one share (an end user gains nothing
// by opening more). An app's backend runs many connections under one
// principal, so it is counted per connection like anyone else.
// nats.go replies to "<inbox prefix>.<token>", one prefix per connection;
// a reply subject of two tokens or fewer (an old-style request) is its own
// key, as nothing in it names the connection.
func connectionOf(p identity.Principal, reply string) string {
	switch {
	case p.Kind == identity.KindUser:
		return p.String()
	case p.Connection != "":
		// A request across a service import has its reply subject
		// rewritten per importing account (_R_.…), which names no
		// connection; nats-server's header does.
		return p.String() + "#" + p.Connection
	}
	if i := strings.LastIndexByte(reply, '.'); i > 0 && strings.Count(reply, ".") >= 2 {
		return reply[:i]
	}
	return reply
}

// maxMessage bounds the sentence of an error reply, header and body alike.
// Values a producer sent are quoted short (events.Quote); this catches any
// other echo (a decoder's message naming an unknown field, say), so that no
// error reply can outgrow a NATS message.
const maxMessage = 1024

// boundMessage cuts text to maxMessage bytes, on a character boundary,
// ending it with "…" when cut.
func boundMessage(text string) string {
	if len(text) <= maxMessage {
		return text
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}

// headroom is what an append leaves of a NATS message for its headers
// (Nats-Msg-Id, the expected sequence) and the protocol line.
const headroom = 1024

// fits refuses an event that would not fit a NATS message on this
// connection: JetStream would refuse its append, which the producer would
// see as an internal error, when the request itself is what is too big.
func (s *Service) fits(data []byte) error {
	if limit := s.nc.MaxPayload(); int64(len(data)+headroom) > limit {
		return fmt.Errorf("%w: the event would be %d bytes, and a NATS message here carries at most %d (max_payload), headers included",
			ErrTooLarge, len(data), limit)
	}
	return nil
}
