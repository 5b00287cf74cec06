package rpc

import (
	"context"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/admission"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/identity"
)

// Host is what the server needs of the service it serves: who sent a
// request, its deadline, and the codec of replies.
// The service implements it, so that rpc never imports the service.
type Host interface {
	// Principal is who sent msg, or why that cannot be read: such a
	// request is admitted on its connection alone and answered with the
	// error.
	Principal(msg *nats.Msg) (identity.Principal, error)
	// Context is the context of one request of an endpoint of kind
	// ("command", "query", "admin") under base; cancel once answered.
	Context(base context.Context, kind string) (context.Context, context.CancelFunc)
	// EncodeError is err's reply: micro's status, the contract's code, the
	// one-line sentence for micro's error header, and the body.
	EncodeError(err error) (status, code, message string, body []byte)
	// EncodeReply is res's reply body and, if not nil, what gives its
	// buffer back once published. An error is logged, and no reply sent.
	EncodeReply(res any) (data []byte, free func(), err error)
	// FitsReply refuses a reply body no NATS message here can carry.
	FitsReply(data []byte) error
}

// Observer receives the measure of each reply sent; service.Observer has it.
type Observer interface {
	// Answered is one request answered: kind is "command", "query" or
	// "admin", name its action or query, code "ok" or the contract's error
	// code, d the time from receipt to the reply.
	Answered(kind, name, code string, d time.Duration)
}

// Config is what a Server serves and how it answers.
type Config struct {
	// Conn is the connection the endpoints subscribe and reply on.
	Conn *nats.Conn
	// Name, Version, Description and Metadata are the service's, as
	// $SRV.INFO reports them.
	Name, Version, Description string
	Metadata                   map[string]string
	// NodeID is every reply's Crosstalk-Node header.
	NodeID string
	// Host reads requests and encodes replies; Observer counts them.
	Host     Host
	Observer Observer
	// Logger says what failed.
	Logger *slog.Logger
}

// respond answers as micro would: JSON on success; on error the
// Nats-Service-Error-Code and Nats-Service-Error headers and the contract's
// JSON error body. Either carries the request's trace context.
func (m *Server) respond(req Request, res any, err error) {
	if req.Reply == "" {
		return
	}
	host := m.cfg.Host
	msg := &nats.Msg{Subject: req.Reply, Header: m.header(err != nil || req.Trace.Parent != "")}
	status, code := "", "ok"
	if err != nil {
		var text string
		status, code, text, msg.Data = host.EncodeError(err)
		m.logFailure(req, code, err)
		msg.Header[micro.ErrorCodeHeader] = []string{status}
		msg.Header[micro.ErrorHeader] = []string{text}
		if wait := admission.RetryAfter(err); wait != "" {
			msg.Header[api.RetryAfterHeader] = []string{wait}
		}
	} else {
		var free func()
		if msg.Data, free, err = host.EncodeReply(res); err != nil {
			m.cfg.Logger.Error("encode reply", slog.String("subject", req.Subject), slog.Any("err", err))
			return
		}
		if free != nil {
			defer free() // PublishMsg copies the data
		}
		if tooLarge := host.FitsReply(msg.Data); tooLarge != nil {
			m.respond(req, nil, tooLarge) // rather than a timeout
			return
		}
	}
	if req.Trace.Parent != "" {
		SetTraceHeaders(msg.Header, req.Trace)
	}
	if err := m.cfg.Conn.PublishMsg(msg); err != nil {
		m.cfg.Logger.Warn("reply failed", slog.String("subject", req.Subject), slog.Any("err", err))
	}
	m.answered(req, status, code, err)
}

// header is the header of a reply: Crosstalk-Node, on every reply. A
// reply that needs more headers gets a copy, so that the shared one is
// only ever read.
func (m *Server) header(more bool) nats.Header {
	if !more {
		return m.nodeHeader
	}
	return nats.Header{api.NodeHeader: m.nodeHeader[api.NodeHeader]}
}

// answered counts a reply just sent in its endpoint's statistics and the
// observer's measurements: both count what the client got, when it got it.
func (m *Server) answered(req Request, status, code string, err error) {
	if req.ep == nil {
		return
	}
	d := time.Since(req.start)
	req.ep.record(d, status, err)
	m.cfg.Observer.Answered(req.ep.kind, req.ep.label, code, d)
}

// logFailure writes one log line per failed request: internal errors at
// error level, the service's own 5xx (unavailable, not caught up, a
// misconfigured stream) at warn, and a producer's refused request at debug,
// so that a producer sending garbage cannot flood the log. The error's
// sentence never quotes a message's text.
func (m *Server) logFailure(req Request, code string, err error) {
	level := slog.LevelDebug
	switch {
	case code == api.CodeInternal:
		level = slog.LevelError
	case strings.HasPrefix(api.StatusOf(code), "5"):
		level = slog.LevelWarn
	}
	m.cfg.Logger.Log(context.Background(), level, "request failed", slog.String("subject", req.Subject),
		slog.String("code", code), slog.Any("err", err))
}

// FirstLine keeps an error header one line; internal errors (code
// api.CodeInternal) say only so.
func FirstLine(text, code string) string {
	if code == api.CodeInternal {
		return "internal error"
	}
	text, _, _ = strings.Cut(text, "\n")
	return text
}

// KindCommand is the kind of the command endpoints, crosstalk.cmd.*.
const KindCommand = "command"

// kindOf is the kind of request an endpoint subject serves, for Answered.
func kindOf(subject string) string {
	switch {
	case strings.HasPrefix(subject, api.QueryPrefix):
		return "query"
	case strings.HasPrefix(subject, api.AdminPrefix):
		return "admin"
	}
	return KindCommand
}

// maxMessage bounds the sentence of an error reply, header and body alike.
// Values a producer sent are quoted short (events.Quote); this catches any
// other echo (a decoder's message naming an unknown field, say), so that no
// error reply can outgrow a NATS message.
const maxMessage = 1024

// BoundMessage cuts text to maxMessage bytes, on a character boundary,
// ending it with "…" when cut.
func BoundMessage(text string) string {
	if len(text) <= maxMessage {
		return text
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}
