package service

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/nats-io/nuid"
)

// microService speaks the NATS micro protocol ($SRV.PING, $SRV.INFO,
// $SRV.STATS) itself instead of through micro.AddService. micro measures an
// endpoint from its handler's call to its return and counts an error only
// when the handler replies with micro's Error; crosstalk's handlers hand the
// request to a worker and reply later, so micro saw every request as a
// success of a few microseconds. Here each endpoint counts a request when
// its reply is published, with the time from receipt to that reply and
// whether it was an error reply: what the client got
// (docs/architecture.md, "Micro stats").
type microService struct {
	nc          *nats.Conn
	id          string
	name        string
	version     string
	description string
	started     time.Time
	// metadata is the instance's micro metadata: its node id and roles.
	metadata map[string]string

	mu        sync.Mutex
	endpoints []*endpoint
	subs      []*nats.Subscription
}

// queueGroup is micro's default queue group, so several instances share
// the endpoints as they did under micro.
const queueGroup = "q"

func newMicroService(nc *nats.Conn, name, version, description string, metadata map[string]string) *microService {
	return &microService{nc: nc, id: nuid.Next(), name: name, version: version,
		description: description, started: time.Now().UTC(), metadata: metadata}
}

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
		e.lastError = status + ":" + firstLine(err.Error(), "")
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

// group prefixes the subjects of the endpoints added through it, as
// micro.Group does.
type group struct {
	svc    *microService
	prefix string
}

// AddGroup returns a group whose endpoints' subjects start with prefix.
func (m *microService) AddGroup(prefix string) *group { return &group{svc: m, prefix: prefix} }

// addEndpoint subscribes h to the group's subject in the queue group.
func (g *group) addEndpoint(name, subject string, h func(*endpoint, *nats.Msg)) error {
	m := g.svc
	ep := &endpoint{name: endpointName(name), subject: g.prefix + "." + subject, label: name}
	ep.kind = kindOf(ep.subject)
	ep.label = strings.TrimPrefix(ep.label, ep.kind+".")
	sub, err := m.nc.QueueSubscribe(ep.subject, queueGroup, func(msg *nats.Msg) { h(ep, msg) })
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.endpoints = append(m.endpoints, ep)
	m.subs = append(m.subs, sub)
	return nil
}

// start subscribes the protocol's verbs: each for every service, for this
// kind and for this instance, as micro does.
func (m *microService) start() error {
	verbs := map[micro.Verb]func() any{
		micro.PingVerb:  func() any { return micro.Ping{ServiceIdentity: m.identity(), Type: micro.PingResponseType} },
		micro.InfoVerb:  func() any { return m.info() },
		micro.StatsVerb: func() any { return m.stats() },
	}
	for verb, answer := range verbs {
		for _, scope := range [][2]string{{"", ""}, {m.name, ""}, {m.name, m.id}} {
			subject, err := micro.ControlSubject(verb, scope[0], scope[1])
			if err != nil {
				return err
			}
			answer := answer
			sub, err := m.nc.Subscribe(subject, func(msg *nats.Msg) {
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

func (m *microService) identity() micro.ServiceIdentity {
	return micro.ServiceIdentity{Name: m.name, ID: m.id, Version: m.version, Metadata: m.metadata}
}

// Info is what $SRV.INFO answers.
func (m *microService) info() micro.Info {
	m.mu.Lock()
	defer m.mu.Unlock()
	eps := make([]micro.EndpointInfo, 0, len(m.endpoints))
	for _, e := range m.endpoints {
		eps = append(eps, micro.EndpointInfo{Name: e.name, Subject: e.subject, QueueGroup: queueGroup})
	}
	return micro.Info{ServiceIdentity: m.identity(), Type: micro.InfoResponseType,
		Description: m.description, Endpoints: eps}
}

// stats is what $SRV.STATS answers.
func (m *microService) stats() micro.Stats {
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

// stop drains every subscription: no new request is taken, and those
// already delivered are handed to their handlers.
func (m *microService) stop() error {
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
