// Package rpc serves crosstalk's request/reply endpoints over NATS: the
// micro protocol ($SRV.PING, $SRV.INFO, $SRV.STATS) with statistics of
// what the clients got, and the dispatch of each request (admission, a
// worker, the reply with micro's error headers and the request's trace
// context). What a request means is the Host's and its handlers' business:
// rpc knows neither the commands nor the queries.
package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/nats-io/nuid"
)

// Server speaks the NATS micro protocol ($SRV.PING, $SRV.INFO,
// $SRV.STATS) itself instead of through micro.AddService. micro measures an
// endpoint from its handler's call to its return and counts an error only
// when the handler replies with micro's Error; crosstalk's handlers hand the
// request to a worker and reply later, so micro saw every request as a
// success of a few microseconds. Here each endpoint counts a request when
// its reply is published, with the time from receipt to that reply and
// whether it was an error reply: what the client got
// (docs/architecture.md, "Micro stats").
type Server struct {
	cfg     Config
	id      string
	started time.Time
	// ctx bounds the workers; requests run under it without its cancel.
	ctx  context.Context
	base context.Context

	mu        sync.Mutex
	endpoints []*endpoint
	subs      []*nats.Subscription

	// inflight counts the requests admitted and not yet answered; pool
	// runs them.
	inflight sync.WaitGroup
	pool     *workerPool
	// nodeHeader is every reply's Crosstalk-Node header, shared and only
	// read (header).
	nodeHeader nats.Header
}

// queueGroup is micro's default queue group, so several instances share
// the endpoints as they did under micro.
const queueGroup = "q"

// NewServer returns a server of cfg. Its workers end once ctx is done;
// the requests it took up finish under ctx without its cancel, so that a
// shutdown drains instead of failing requests already accepted.
func NewServer(ctx context.Context, cfg Config) *Server {
	return &Server{cfg: cfg, id: nuid.Next(), started: time.Now().UTC(), ctx: ctx,
		base: context.WithoutCancel(ctx), pool: &workerPool{ctx: ctx},
		nodeHeader: nats.Header{api.NodeHeader: {cfg.NodeID}}}
}

// ID is the server's instance id, as $SRV.INFO reports it.
func (m *Server) ID() string { return m.id }

// Name is the service's name, as $SRV.INFO reports it.
func (m *Server) Name() string { return m.cfg.Name }

// endpoint is one registered endpoint and its statistics.
type endpoint struct {
	name, subject string
	// kind and label name it for Observer.Answered: "command" and
	// "message.send", "query" and "inbox".
	kind, label string

	mu         sync.Mutex
	requests   int
	errors     int
	lastError  string
	processing time.Duration
}

// record counts one answered request that took d; err is the error
// replied, if any.
func (e *endpoint) record(d time.Duration, status string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests++
	e.processing += d
	if err != nil {
		e.errors++
		e.lastError = status + ":" + FirstLine(err.Error(), "")
	}
}

func (e *endpoint) stats() *micro.EndpointStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := &micro.EndpointStats{Name: e.name, Subject: e.subject, QueueGroup: queueGroup,
		NumRequests: e.requests, NumErrors: e.errors, LastError: e.lastError, ProcessingTime: e.processing}
	if e.requests > 0 {
		st.AverageProcessingTime = e.processing / time.Duration(e.requests)
	}
	return st
}

// Group prefixes the subjects of the endpoints added through it, as
// micro.Group does.
type Group struct {
	svc    *Server
	prefix string
}

// AddGroup returns a group whose endpoints' subjects start with prefix.
func (m *Server) AddGroup(prefix string) *Group { return &Group{svc: m, prefix: prefix} }

// subscribe subscribes h to the group's subject in the queue group.
func (g *Group) subscribe(name, subject string, h func(*endpoint, *nats.Msg)) error {
	m := g.svc
	ep := &endpoint{name: endpointName(name), subject: g.prefix + "." + subject, label: name}
	ep.kind = kindOf(ep.subject)
	ep.label = strings.TrimPrefix(ep.label, ep.kind+".")
	sub, err := m.cfg.Conn.QueueSubscribe(ep.subject, queueGroup, func(msg *nats.Msg) { h(ep, msg) })
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.endpoints = append(m.endpoints, ep)
	m.subs = append(m.subs, sub)
	return nil
}

// Start subscribes the protocol's verbs: each for every service, for this
// kind and for this instance, as micro does.
func (m *Server) Start() error {
	verbs := map[micro.Verb]func() any{
		micro.PingVerb:  func() any { return micro.Ping{ServiceIdentity: m.identity(), Type: micro.PingResponseType} },
		micro.InfoVerb:  func() any { return m.info() },
		micro.StatsVerb: func() any { return m.stats() },
	}
	for verb, answer := range verbs {
		for _, scope := range [][2]string{{"", ""}, {m.cfg.Name, ""}, {m.cfg.Name, m.id}} {
			subject, err := micro.ControlSubject(verb, scope[0], scope[1])
			if err != nil {
				return err
			}
			answer := answer
			sub, err := m.cfg.Conn.Subscribe(subject, func(msg *nats.Msg) {
				if data, err := json.Marshal(answer()); err == nil {
					_ = msg.Respond(data) // the asker may have gone
				}
			})
			if err != nil {
				return err
			}
			m.mu.Lock()
			m.subs = append(m.subs, sub)
			m.mu.Unlock()
		}
	}
	return nil
}

func (m *Server) identity() micro.ServiceIdentity {
	return micro.ServiceIdentity{Name: m.cfg.Name, ID: m.id, Version: m.cfg.Version, Metadata: m.cfg.Metadata}
}

// Info is what $SRV.INFO answers.
func (m *Server) info() micro.Info {
	m.mu.Lock()
	defer m.mu.Unlock()
	eps := make([]micro.EndpointInfo, 0, len(m.endpoints))
	for _, e := range m.endpoints {
		eps = append(eps, micro.EndpointInfo{Name: e.name, Subject: e.subject, QueueGroup: queueGroup})
	}
	return micro.Info{ServiceIdentity: m.identity(), Type: micro.InfoResponseType,
		Description: m.cfg.Description, Endpoints: eps}
}

// stats is what $SRV.STATS answers.
func (m *Server) stats() micro.Stats {
	m.mu.Lock()
	eps := append([]*endpoint(nil), m.endpoints...)
	m.mu.Unlock()
	st := micro.Stats{ServiceIdentity: m.identity(), Type: micro.StatsResponseType, Started: m.started,
		Endpoints: make([]*micro.EndpointStats, 0, len(eps))}
	for _, e := range eps {
		st.Endpoints = append(st.Endpoints, e.stats())
	}
	return st
}

// Stop drains (Drain), then waits for every request taken up to be
// answered and for the workers to end, which they do once the server's ctx
// is done: call it after.
func (m *Server) Stop() error {
	err := m.Drain()
	m.inflight.Wait()
	m.pool.wait()
	return err
}

// Drain drains every subscription: no new request is taken, and those
// already delivered are handed to their handlers.
func (m *Server) Drain() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, sub := range m.subs {
		if err := sub.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, err)
		}
	}
	m.subs = nil
	return errors.Join(errs...)
}

// endpointName is an endpoint's name for micro: names may not contain dots.
func endpointName(name string) string { return strings.ReplaceAll(name, ".", "_") }
