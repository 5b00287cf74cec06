package service

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/crosstalk-dev/crosstalk/admission"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/codec"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/rpc"
)

// kindCommand is the kind of the command endpoints, for their deadline.
const kindCommand = rpc.KindCommand

// traceFrom is the request's trace context that ctx carries, if any.
func traceFrom(ctx context.Context) events.Trace { return rpc.TraceFrom(ctx) }

func (s *Service) addService(ctx context.Context) (*rpc.Server, error) {
	svc := rpc.NewServer(ctx, rpc.Config{Conn: s.nc, Name: api.ServiceName, Version: s.opts.Version,
		Description: "crosstalk: event-sourced cross-app chat with policy-switched links", Metadata: s.metadata(),
		NodeID: s.opts.NodeID, Host: rpcHost{s}, Observer: s.observer, Logger: s.opts.Logger})
	if s.has(api.RoleCommands) {
		if err := s.addCommands(svc); err != nil {
			return nil, err
		}
	}
	if err := s.addNodeEndpoints(svc); err != nil {
		return nil, err
	}
	if s.hasViews() {
		if err := s.addViewsEndpoints(svc); err != nil {
			return nil, err
		}
	}
	return svc, svc.Start()
}

// addCommands registers the commands and the policy's publication: the
// commands role.
func (s *Service) addCommands(svc *rpc.Server) error {
	cmd := svc.AddGroup(api.CommandGroup)
	for _, a := range api.ConversationActions {
		if err := cmd.AddAsync(a, "*."+a, s.commands, s.commandHandler(a, s.conversationCommand)); err != nil {
			return err
		}
	}
	for _, a := range api.AccountActions {
		if err := cmd.AddAsync(a, "*."+a, s.commands, s.commandHandler(a, s.accountCommand)); err != nil {
			return err
		}
	}
	admin := svc.AddGroup(api.AdminGroup)
	return s.add(admin, s.commands, api.AdminPolicyPublish, api.AdminPolicyPublish, func(ctx context.Context, p identity.Principal, req rpc.Request) (any, error) {
		if err := p.MayAdmin(); err != nil {
			return nil, err
		}
		return s.publishPolicy(ctx, p, req.Data)
	})
}

// addViewsEndpoints registers what answers from the read model: the
// shared rebuild (any node that keeps one) and, with the queries role, the
// queries.
func (s *Service) addViewsEndpoints(svc *rpc.Server) error {
	admin := svc.AddGroup(api.AdminGroup)
	if err := s.add(admin, s.commands, api.AdminRebuild, api.AdminRebuild, func(ctx context.Context, p identity.Principal, req rpc.Request) (any, error) {
		return s.rebuildViews(ctx, p, req.Data)
	}); err != nil {
		return err
	}
	if !s.has(api.RoleQueries) {
		return nil
	}
	return s.addQueries(svc.AddGroup(api.QueryGroup))
}

func (s *Service) addQueries(g *rpc.Group) error {
	queries := map[string]func(context.Context, identity.Principal, []byte) (any, error){
		api.QueryInbox: s.queryInbox, api.QueryMessages: s.queryMessages, api.QueryPresence: s.queryPresence,
		api.QueryConversation: s.queryConversation, api.QueryPolicy: s.queryPolicy, api.QueryStatus: s.queryStatus,
		api.QueryCommand: s.queryCommand, api.QueryExport: s.queryExport,
	}
	quick := map[string]rpc.Quick{api.QueryInbox: s.queryInboxNow}
	for name, q := range queries {
		h := func(ctx context.Context, p identity.Principal, req rpc.Request) (any, error) {
			return q(ctx, p, req.Data)
		}
		if err := g.Add("query."+name, name, s.queries, h, quick[name]); err != nil {
			return err
		}
	}
	return nil
}

// add registers one endpoint whose requests take slots of lim.
func (s *Service) add(g *rpc.Group, lim *admission.Limiter, name, subject string, h rpc.Handler) error {
	return g.Add(name, subject, lim, h, nil)
}

// commandRun runs one command body of action for app, sent by p, and
// gives its answer to reply, once, perhaps after it returns.
type commandRun func(ctx context.Context, p identity.Principal, app events.App, action string, body []byte, reply commandReply)

// commandReply takes a command's answer.
type commandReply func(api.CommandReply, error)

// commandHandler reads the app from the request subject,
// crosstalk.cmd.<app>.<action>, and runs the command; its answer is the
// request's reply, and a refusal is recorded.
func (s *Service) commandHandler(action string, run commandRun) rpc.AsyncHandler {
	suffix := "." + action // once, not per request
	return func(ctx context.Context, p identity.Principal, req rpc.Request, reply func(any, error)) {
		rest := strings.TrimPrefix(req.Subject, api.CommandPrefix)
		app := events.App(strings.TrimSuffix(rest, suffix))
		if err := app.Validate(); err != nil {
			reply(nil, badRequest("subject %s: %v", events.Quote(req.Subject), err))
			return
		}
		run(ctx, p, app, action, req.Data, func(r api.CommandReply, err error) {
			err = s.failFast(ctx, err) // a wait before execute's, as within it
			if err != nil {
				s.recordRejection(p, req.Trace, app, action, req.Data, err)
			}
			reply(r, err)
		})
	}
}

// encodeReply is res's reply body: a page encoded already (in a pooled
// buffer, given back by free once published, or as raw JSON), a command's
// reply without reflection, anything else through encoding/json.
func encodeReply(res any) (data []byte, free func(), err error) {
	switch r := res.(type) {
	case *rpc.ReplyBuffer:
		return r.B, r.Free, nil
	case json.RawMessage:
		return r, nil, nil
	case api.CommandReply:
		if data, ok := codec.AppendCommandReply(make([]byte, 0, 256), r); ok {
			return data, nil, nil // every command's reply, without reflection
		}
	}
	data, err = json.Marshal(res)
	return data, nil, err
}
