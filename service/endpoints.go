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

// request is what a handler needs of a micro request, copied out of it:
// micro's request object is not safe to answer from another goroutine (it
// records the reply's error for its stats after the handler returns), so
// handlers run on their own goroutine with this copy and reply through the
// connection.
type request struct {
	subject, reply string
	data           []byte
	// info is the Nats-Request-Info header, read only when the service
	// enforces identities.
	info string
}

// handlerFunc answers one request from principal p.
type handlerFunc func(ctx context.Context, p identity.Principal, req request) (any, error)

func (s *Service) addService(ctx context.Context) (micro.Service, error) {
	svc, err := micro.AddService(s.nc, micro.Config{
		Name: api.ServiceName, Version: s.opts.Version,
		Description: "crosstalk: event-sourced cross-app chat with policy-switched links",
	})
	if err != nil {
		return nil, err
	}
	cmd := svc.AddGroup("crosstalk.cmd")
	for _, a := range api.ConversationActions {
		if err := s.add(ctx, cmd, s.commands, a, "*."+a, s.commandHandler(a, s.conversationCommand)); err != nil {
			return nil, err
		}
	}
	for _, a := range api.AccountActions {
		if err := s.add(ctx, cmd, s.commands, a, "*."+a, s.commandHandler(a, s.accountCommand)); err != nil {
			return nil, err
		}
	}
	admin := svc.AddGroup("crosstalk.admin")
	if err := s.add(ctx, admin, s.commands, "policy.publish", "policy.publish", func(ctx context.Context, p identity.Principal, req request) (any, error) {
		if err := p.MayAdmin(); err != nil {
			return nil, err
		}
		return s.publishPolicy(ctx, p, req.data)
	}); err != nil {
		return nil, err
	}
	if err := s.add(ctx, admin, s.commands, "views.rebuild", "views.rebuild", func(ctx context.Context, p identity.Principal, req request) (any, error) {
		return s.rebuildViews(ctx, p, req.data)
	}); err != nil {
		return nil, err
	}
	return svc, s.addQueries(ctx, svc.AddGroup("crosstalk.query"))
}

func (s *Service) addQueries(ctx context.Context, g micro.Group) error {
	queries := map[string]func(context.Context, identity.Principal, []byte) (any, error){
		api.QueryInbox: s.queryInbox, api.QueryMessages: s.queryMessages, api.QueryPresence: s.queryPresence,
		api.QueryConversation: s.queryConversation, api.QueryPolicy: s.queryPolicy, api.QueryStatus: s.queryStatus,
	}
	for name, q := range queries {
		q := q
		h := func(ctx context.Context, p identity.Principal, req request) (any, error) { return q(ctx, p, req.data) }
		if err := s.add(ctx, g, s.queries, "query."+name, name, h); err != nil {
			return err
		}
	}
	return nil
}

// add registers one endpoint whose requests take slots of lim. Endpoint
// names may not contain dots.
func (s *Service) add(ctx context.Context, g micro.Group, lim *limiter, name, subject string, h handlerFunc) error {
	return g.AddEndpoint(strings.ReplaceAll(name, ".", "_"), s.async(ctx, lim, h), micro.WithEndpointSubject(subject))
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
		if err != nil {
			s.recordRejection(p, app, action, req.data, err)
		}
		return r, err
	}
}

// async runs h on another goroutine, because micro delivers an endpoint's
// requests one at a time. The request takes a slot of lim first (see
// limiter), counted against its connection; it gets CommandTimeout, and is
// allowed to finish after ctx is done so that a shutdown drains instead of
// failing requests already accepted.
func (s *Service) async(ctx context.Context, lim *limiter, h handlerFunc) micro.HandlerFunc {
	base := context.WithoutCancel(ctx)
	return func(mr micro.Request) {
		req := request{subject: mr.Subject(), reply: mr.Reply(), data: mr.Data(), info: s.requestInfo(mr)}
		p, perr := s.principal(req)
		conn := connectionOf(p, req.reply)
		if err := lim.acquire(conn); err != nil {
			s.respond(req, nil, err)
			return
		}
		s.inflight.Add(1)
		s.runJob(ctx, func() {
			defer s.inflight.Done()
			defer lim.release(conn)
			rctx, cancel := context.WithTimeout(base, s.opts.CommandTimeout)
			defer cancel()
			err := perr
			var res any
			if err == nil {
				res, err = h(rctx, p, req)
			}
			s.respond(req, res, err)
		})
	}
}

// workerIdle is how long a worker goroutine waits for another request
// before it ends.
const workerIdle = 5 * time.Second

// runJob runs job on a worker goroutine that waits for one, or on a new
// worker. Workers are reused because a new goroutine per request grew (and
// copied) its stack again for every request, 8% of the command path's CPU.
// Workers end when idle for workerIdle or once ctx is done.
func (s *Service) runJob(ctx context.Context, job func()) {
	select {
	case s.jobs <- job:
	default:
		s.workers.Add(1)
		go s.worker(ctx, job)
	}
}

func (s *Service) worker(ctx context.Context, job func()) {
	defer s.workers.Done()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		job()
		idle.Reset(workerIdle)
		select {
		case job = <-s.jobs:
		case <-idle.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// respond answers as micro would: JSON on success; on error the
// Nats-Service-Error-Code and Nats-Service-Error headers and the contract's
// JSON error body.
func (s *Service) respond(req request, res any, err error) {
	if req.reply == "" {
		return
	}
	msg := &nats.Msg{Subject: req.reply}
	if err != nil {
		status, code, body := encodeError(err, s.policyAt(s.opts.Clock.Now()).VersionOf())
		if code == api.CodeInternal {
			s.opts.Logger.Error("request failed", slog.String("subject", req.subject), slog.Any("err", err))
		}
		msg.Header = nats.Header{micro.ErrorCodeHeader: {status}, micro.ErrorHeader: {boundMessage(firstLine(err.Error(), code))}}
		msg.Data = body
	} else if raw, ok := res.(json.RawMessage); ok {
		msg.Data = raw // encoded already, as the inbox query's page is
	} else if msg.Data, err = json.Marshal(res); err != nil {
		s.opts.Logger.Error("encode reply", slog.String("subject", req.subject), slog.Any("err", err))
		return
	}
	if err := s.nc.PublishMsg(msg); err != nil {
		s.opts.Logger.Warn("reply failed", slog.String("subject", req.subject), slog.Any("err", err))
	}
}

// firstLine keeps the error header one line; internal errors say only so.
func firstLine(text, code string) string {
	if code == api.CodeInternal {
		return "internal error"
	}
	text, _, _ = strings.Cut(text, "\n")
	return text
}
