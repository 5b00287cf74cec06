// Package admission decides which requests the service takes up: each
// principal's budget (a token bucket and a count in flight, by kind of
// principal and class of request), then a slot of its class counted
// against its connection. What it refuses is ErrTooManyRequests (429), and
// what it sheds is said in the log at most once per shedLogEvery.
package admission

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/crosstalk-dev/crosstalk/identity"
)

// ErrTooManyRequests reports a request refused because its connection (or
// principal) has as many requests of its kind in flight as one may, or sent
// them faster than its principal may.
var ErrTooManyRequests = errors.New("too many requests")

// Limiter bounds the requests of one kind (commands or queries) handled at
// once: at most slots in all, more wait for a slot; and at most perConn
// from one connection, more are refused at once. Commands and queries each
// have their own, so that queries kept waiting (for a min_seq, say) never
// hold a slot a command needs; the share per connection keeps one producer
// from taking every slot of either.
type Limiter struct {
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

// Class picks one class's limit, commands or queries, of a kind's limits.
type Class func(KindLimits) Limit

// Commands and Queries are the two classes of request.
var (
	Commands Class = func(k KindLimits) Limit { return k.Commands }
	Queries  Class = func(k KindLimits) Limit { return k.Queries }
)

// NewLimiter returns the limiter of kind ("commands" or "queries"): slots
// in all, perConn of them per connection (at least 1, at most slots), and
// the budgets class picks of limits, which must have had EnsureDefaults.
// log, if not nil, says what is shed.
func NewLimiter(kind string, slots, perConn int, limits PrincipalLimits, class Class, log *slog.Logger) *Limiter {
	b := newBudgets(kind, limits, class)
	b.log = log
	return &Limiter{kind: kind, principals: b, slots: make(chan struct{}, slots),
		perConn: min(max(perConn, 1), slots), byConn: map[string]int{}}
}

// Ticket is what Admit took, for Leave to give back.
type Ticket struct {
	bg   *budget
	conn string
}

// Admit lets a request of p on conn in, or refuses it: first against p's
// budget (budgets.take), then for a slot (acquire). perr is the error of
// reading p; such a request takes a slot only, to be refused by its
// handler. Give the ticket back with Leave.
func (l *Limiter) Admit(p identity.Principal, perr error, conn string) (Ticket, error) {
	var bg *budget
	if perr == nil {
		var err error
		if bg, err = l.principals.take(p, conn); err != nil {
			return Ticket{}, err
		}
	}
	if err := l.acquire(conn); err != nil {
		bg.done()
		return Ticket{}, err
	}
	return Ticket{bg: bg, conn: conn}, nil
}

// Leave gives back what Admit took.
func (l *Limiter) Leave(t Ticket) {
	l.release(t.conn)
	t.bg.done()
}

// acquire takes a slot for conn, waiting while every slot is taken. It
// refuses at once, with ErrTooManyRequests, when conn holds or waits for
// perConn slots already: waiting would hold up the endpoint's other callers
// too, since micro delivers an endpoint's requests one at a time.
func (l *Limiter) acquire(conn string) error {
	l.mu.Lock()
	if l.byConn[conn] >= l.perConn {
		l.mu.Unlock()
		err := fmt.Errorf("%w: this connection has %d %s in flight, the most one connection may; retry once one is answered",
			ErrTooManyRequests, l.perConn, l.kind)
		if n := l.shed.add(time.Now()); n > 0 && l.principals.log != nil {
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
func (l *Limiter) release(conn string) {
	<-l.slots
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byConn[conn]--; l.byConn[conn] <= 0 {
		delete(l.byConn, conn)
	}
}

// InFlight reports how many requests hold a slot.
func (l *Limiter) InFlight() int { return len(l.slots) }

// ConnectionOf names who a request counts against: the connection, known
// by its reply subject's inbox prefix, except for an authenticated end
// user, whose every connection shares one share (an end user gains nothing
// by opening more). An app's backend runs many connections under one
// principal, so it is counted per connection like anyone else.
// nats.go replies to "<inbox prefix>.<token>", one prefix per connection;
// a reply subject of two tokens or fewer (an old-style request) is its own
// key, as nothing in it names the connection.
func ConnectionOf(p identity.Principal, reply string) string {
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
