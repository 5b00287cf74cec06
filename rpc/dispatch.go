package rpc

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/admission"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
)

// Request is what a handler needs of a request message, copied out of it:
// handlers run on their own goroutine with this copy and reply through the
// connection.
type Request struct {
	Subject, Reply string
	Data           []byte
	// Trace is the request's W3C trace context, echoed in the reply.
	Trace events.Trace
	// ep is the endpoint that received it and start when, for the
	// endpoint's statistics and the metrics, counted when it is answered.
	ep    *endpoint
	start time.Time
}

// Handler answers one request from principal p.
type Handler func(ctx context.Context, p identity.Principal, req Request) (any, error)

// Quick answers a request from p on the goroutine that received it, if
// it can without waiting: answered is false when the request has to wait
// (for its min_seq or after, or for the views to catch up after a start), and the
// request then takes the worker path with its deadline as any other.
//
// A query that reads only the views answers in microseconds; handing it to
// a worker cost a goroutine wake-up and a timer (its CommandTimeout
// context) per request, for nothing to wait on. Answered here, the queries
// of one endpoint run one at a time, which on the two cores the service is
// sized for is no loss: the broker and the clients take the other.
type Quick func(p identity.Principal, req Request) (res any, answered bool, err error)

// AsyncHandler answers one request from principal p by calling reply,
// once, from any goroutine, perhaps after it returns: a handler that
// waits for something that calls it back (the command path's append)
// returns its worker to the others meanwhile. The request's slot,
// deadline and statistics are held until reply is called.
type AsyncHandler func(ctx context.Context, p identity.Principal, req Request, reply func(res any, err error))

// Add registers one endpoint whose requests take slots of lim and are
// answered by h, or by quick when it answers at once (nil: never). Its
// name may contain dots; micro's name has them replaced.
func (g *Group) Add(name, subject string, lim *admission.Limiter, h Handler, quick Quick) error {
	async := func(ctx context.Context, p identity.Principal, req Request, reply func(any, error)) {
		reply(h(ctx, p, req))
	}
	return g.subscribe(name, subject, g.svc.dispatch(lim, async, quick))
}

// AddAsync is Add for a handler that replies through a callback.
func (g *Group) AddAsync(name, subject string, lim *admission.Limiter, h AsyncHandler) error {
	return g.subscribe(name, subject, g.svc.dispatch(lim, h, nil))
}

// dispatch runs h on another goroutine, because NATS delivers a
// subscription's messages one at a time. The request is let in by lim
// first (see Limiter.Admit): its principal's budget, then a slot counted
// against its connection; it gets the Host's deadline for its kind, and is
// allowed to finish after the server's ctx is done so that a shutdown
// drains instead of failing requests already accepted. A request that
// quick answers at once is answered right here instead (see Quick).
func (m *Server) dispatch(lim *admission.Limiter, h AsyncHandler, quick Quick) func(*endpoint, *nats.Msg) {
	return func(ep *endpoint, msg *nats.Msg) {
		req := Request{Subject: msg.Subject, Reply: msg.Reply, Data: msg.Data,
			Trace: TraceOf(msg.Header), ep: ep, start: time.Now()}
		p, perr := m.cfg.Host.Principal(msg)
		ticket, err := lim.Admit(p, perr, admission.ConnectionOf(p, req.Reply))
		if err != nil {
			m.respond(req, nil, err)
			return
		}
		m.inflight.Add(1)
		if perr == nil && quick != nil && m.answerNow(quick, p, req) {
			lim.Leave(ticket)
			m.inflight.Done()
			return
		}
		m.pool.run(func() { m.run(lim, ticket, h, p, perr, req) })
	}
}

// run runs h for req from p on a worker; the reply it makes, once,
// answers req and gives back its slot.
func (m *Server) run(lim *admission.Limiter, ticket admission.Ticket, h AsyncHandler, p identity.Principal, perr error, req Request) {
	rctx, cancel := m.cfg.Host.Context(m.base, req.ep.kind)
	reply := func(res any, err error) {
		m.respond(req, res, err)
		cancel()
		lim.Leave(ticket)
		m.inflight.Done()
	}
	if perr != nil {
		reply(nil, perr)
		return
	}
	h(WithTrace(rctx, req.Trace), p, req, reply)
}

// answerNow runs quick and replies if it answered.
func (m *Server) answerNow(quick Quick, p identity.Principal, req Request) bool {
	res, answered, err := quick(p, req)
	if answered {
		m.respond(req, res, err)
	}
	return answered
}
