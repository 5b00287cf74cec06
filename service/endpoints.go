package service

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
)

// request is what a handler needs of a request message, copied out of it:
// handlers run on their own goroutine with this copy and reply through the
// connection.
type request struct {
	subject, reply string
	data           []byte
	// info is the Nats-Request-Info header, read only when the service
	// enforces identities.
	info    string
	infoErr error
	// trace is the request's W3C trace context, echoed in the reply.
	trace events.Trace
	// ep is the endpoint that received it and start when, for the
	// endpoint's statistics and the metrics, counted when it is answered.
	ep    *endpoint
	start time.Time
}

// handlerFunc answers one request from principal p.
type handlerFunc func(ctx context.Context, p identity.Principal, req request) (any, error)

func (s *Service) addService(ctx context.Context) (*microService, error) {
	svc := newMicroService(s.nc, api.ServiceName, s.opts.Version,
		"crosstalk: event-sourced cross-app chat with policy-switched links", s.metadata())
	if s.has(api.RoleCommands) {
		if err := s.addCommands(ctx, svc); err != nil {
			return nil, err
		}
	}
	if err := s.addNodeEndpoints(ctx, svc); err != nil {
		return nil, err
	}
	if s.hasViews() {
		if err := s.addViewsEndpoints(ctx, svc); err != nil {
			return nil, err
		}
	}
	return svc, svc.start()
}

// addCommands registers the commands and the policy's publication: the
// commands role.
func (s *Service) addCommands(ctx context.Context, svc *microService) error {
	cmd := svc.AddGroup(api.CommandGroup)
	for _, a := range api.ConversationActions {
		if err := s.add(ctx, cmd, s.commands, a, "*."+a, s.commandHandler(a, s.conversationCommand)); err != nil {
			return err
		}
	}
	for _, a := range api.AccountActions {
		if err := s.add(ctx, cmd, s.commands, a, "*."+a, s.commandHandler(a, s.accountCommand)); err != nil {
			return err
		}
	}
	admin := svc.AddGroup(api.AdminGroup)
	return s.add(ctx, admin, s.commands, api.AdminPolicyPublish, api.AdminPolicyPublish, func(ctx context.Context, p identity.Principal, req request) (any, error) {
		if err := p.MayAdmin(); err != nil {
			return nil, err
		}
		return s.publishPolicy(ctx, p, req.data)
	})
}

// addViewsEndpoints registers what answers from the read model: the
// shared rebuild (any node that keeps one) and, with the queries role, the
// queries.
func (s *Service) addViewsEndpoints(ctx context.Context, svc *microService) error {
	admin := svc.AddGroup(api.AdminGroup)
	if err := s.add(ctx, admin, s.commands, api.AdminRebuild, api.AdminRebuild, func(ctx context.Context, p identity.Principal, req request) (any, error) {
		return s.rebuildViews(ctx, p, req.data)
	}); err != nil {
		return err
	}
	if !s.has(api.RoleQueries) {
		return nil
	}
	return s.addQueries(ctx, svc.AddGroup(api.QueryGroup))
}

func (s *Service) addQueries(ctx context.Context, g *group) error {
	queries := map[string]func(context.Context, identity.Principal, []byte) (any, error){
		api.QueryInbox: s.queryInbox, api.QueryMessages: s.queryMessages, api.QueryPresence: s.queryPresence,
		api.QueryConversation: s.queryConversation, api.QueryPolicy: s.queryPolicy, api.QueryStatus: s.queryStatus,
		api.QueryCommand: s.queryCommand,
	}
	quick := map[string]quickFunc{api.QueryInbox: s.queryInboxNow}
	for name, q := range queries {
		q := q
		h := func(ctx context.Context, p identity.Principal, req request) (any, error) { return q(ctx, p, req.data) }
		if err := g.addEndpoint("query."+name, name, s.async(ctx, s.queries, h, quick[name])); err != nil {
			return err
		}
	}
	return nil
}

// add registers one endpoint whose requests take slots of lim. Endpoint
// names may not contain dots.
func (s *Service) add(ctx context.Context, g *group, lim *limiter, name, subject string, h handlerFunc) error {
	return g.addEndpoint(name, subject, s.async(ctx, lim, h, nil))
}

// commandRun runs one command body of action for app, sent by p.
type commandRun func(ctx context.Context, p identity.Principal, app events.App, action string, body []byte) (api.CommandReply, error)

// commandHandler reads the app from the request subject,
// crosstalk.cmd.<app>.<action>, and runs the command.
func (s *Service) commandHandler(action string, run commandRun) handlerFunc {
	suffix := "." + action // once, not per request
	return func(ctx context.Context, p identity.Principal, req request) (any, error) {
		rest := strings.TrimPrefix(req.subject, api.CommandPrefix)
		app := events.App(strings.TrimSuffix(rest, suffix))
		if err := app.Validate(); err != nil {
			return nil, badRequest("subject %s: %v", events.Quote(req.subject), err)
		}
		r, err := run(ctx, p, app, action, req.data)
		err = s.failFast(ctx, err) // a wait before execute's, as within it
		if err != nil {
			s.recordRejection(p, req.trace, app, action, req.data, err)
		}
		return r, err
	}
}

// async runs h on another goroutine, because micro delivers an endpoint's
// requests one at a time. The request is let in by lim first (see
// limiter.admit): its principal's budget, then a slot counted against its
// connection; it gets CommandTimeout (a command, AppendTimeout: see
// requestContext), and is allowed to finish after ctx is done so that a shutdown drains instead of
// failing requests already accepted. A request that quick, if given,
// answers at once is answered right here instead (see quickFunc).
func (s *Service) async(ctx context.Context, lim *limiter, h handlerFunc, quick quickFunc) func(*endpoint, *nats.Msg) {
	base := context.WithoutCancel(ctx)
	return func(ep *endpoint, msg *nats.Msg) {
		req := request{subject: msg.Subject, reply: msg.Reply, data: msg.Data,
			trace: traceOf(msg.Header), ep: ep, start: time.Now()}
		req.info, req.infoErr = s.requestInfo(msg)
		p, perr := s.principal(req)
		conn := connectionOf(p, req.reply)
		bg, err := lim.admit(p, perr, conn)
		if err != nil {
			s.respond(req, nil, err)
			return
		}
		s.inflight.Add(1)
		if perr == nil && quick != nil && s.answerNow(quick, p, req) {
			lim.leave(bg, conn)
			s.inflight.Done()
			return
		}
		s.runJob(ctx, func() {
			defer s.inflight.Done()
			defer lim.leave(bg, conn)
			rctx, cancel := s.requestContext(base, req.ep)
			defer cancel()
			rctx = withTrace(rctx, req.trace)
			err := perr
			var res any
			if err == nil {
				res, err = h(rctx, p, req)
			}
			s.respond(req, res, err)
		})
	}
}

// workerIdle is the tick at which a worker goroutine that ran no request
// since the last one ends.
const workerIdle = 5 * time.Second

// runJob runs job on a worker goroutine that waits for one, or on a new
// worker. Workers are reused because a new goroutine per request grew (and
// copied) its stack again for every request, 8% of the command path's CPU.
// Workers end once idle (see worker) or once ctx is done.
func (s *Service) runJob(ctx context.Context, job func()) {
	select {
	case s.jobs <- job:
	default:
		s.workers.Add(1)
		go s.worker(ctx, job)
	}
}

// worker runs job, then the jobs it is handed, until it has run none for
// a whole tick of workerIdle (it ends idle for one to two of them) or ctx
// is done. A tick, rather than an idle timer reset after every job, spares
// each command a timer update.
func (s *Service) worker(ctx context.Context, job func()) {
	defer s.workers.Done()
	idle := time.NewTicker(workerIdle)
	defer idle.Stop()
	for busy := false; ; {
		if job != nil {
			job()
			job, busy = nil, true
		}
		select {
		case job = <-s.jobs:
		case <-idle.C:
			if !busy {
				return
			}
			busy = false
		case <-ctx.Done():
			return
		}
	}
}

// respond answers as micro would: JSON on success; on error the
// Nats-Service-Error-Code and Nats-Service-Error headers and the contract's
// JSON error body. Either carries the request's trace context.
func (s *Service) respond(req request, res any, err error) {
	if req.reply == "" {
		return
	}
	msg := &nats.Msg{Subject: req.reply, Header: s.replyHeader(err != nil || req.trace.Parent != "")}
	status, code := "", "ok"
	if err != nil {
		var body []byte
		status, code, body = encodeError(err, s.policyAt(s.opts.Clock.Now()).VersionOf())
		s.logFailure(req, code, err)
		msg.Header[micro.ErrorCodeHeader] = []string{status}
		msg.Header[micro.ErrorHeader] = []string{boundMessage(firstLine(err.Error(), code))}
		if wait := retryAfter(err); wait != "" {
			msg.Header[api.RetryAfterHeader] = []string{wait}
		}
		msg.Data = body
	} else if buf, ok := res.(*replyBuffer); ok {
		msg.Data = buf.b // the inbox query's page, in a pooled buffer
		defer buf.free() // PublishMsg copies it
	} else if raw, ok := res.(json.RawMessage); ok {
		msg.Data = raw // encoded already, as the inbox query's page is
	} else if msg.Data, ok = encodeCommandReply(res); ok {
		// every command's reply, without reflection
	} else if msg.Data, err = json.Marshal(res); err != nil {
		s.opts.Logger.Error("encode reply", slog.String("subject", req.subject), slog.Any("err", err))
		return
	}
	if err == nil {
		if tooLarge := s.fitsReply(msg.Data); tooLarge != nil {
			s.respond(req, nil, tooLarge) // rather than a timeout
			return
		}
	}
	if req.trace.Parent != "" {
		setTraceHeaders(msg.Header, req.trace)
	}
	if err := s.nc.PublishMsg(msg); err != nil {
		s.opts.Logger.Warn("reply failed", slog.String("subject", req.subject), slog.Any("err", err))
	}
	s.answered(req, status, code, err)
}

// answered counts a reply just sent in its endpoint's statistics and the
// observer's measurements: both count what the client got, when it got it.
func (s *Service) answered(req request, status, code string, err error) {
	if req.ep == nil {
		return
	}
	d := time.Since(req.start)
	req.ep.record(d, status, err)
	s.observer.Answered(req.ep.kind, req.ep.label, code, d)
}

// logFailure writes one log line per failed request: internal errors at
// error level, the service's own 5xx (unavailable, not caught up, a
// misconfigured stream) at warn, and a producer's refused request at debug,
// so that a producer sending garbage cannot flood the log. The error's
// sentence never quotes a message's text.
func (s *Service) logFailure(req request, code string, err error) {
	level := slog.LevelDebug
	switch {
	case code == api.CodeInternal:
		level = slog.LevelError
	case strings.HasPrefix(api.StatusOf(code), "5"):
		level = slog.LevelWarn
	}
	s.opts.Logger.Log(context.Background(), level, "request failed", slog.String("subject", req.subject),
		slog.String("code", code), slog.Any("err", err))
}

// firstLine keeps the error header one line; internal errors say only so.
func firstLine(text, code string) string {
	if code == api.CodeInternal {
		return "internal error"
	}
	text, _, _ = strings.Cut(text, "\n")
	return text
}
