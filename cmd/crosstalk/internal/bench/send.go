package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/crosstalk-dev/crosstalk/admission"
	"github.com/crosstalk-dev/crosstalk/clock"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

// serviceStart is where the simulated clock of the service starts: policy
// version 1 (2020) is in force, version 2 (2023-12-14) is ahead.
var serviceStart = time.Date(2023, 12, 1, 12, 0, 0, 0, time.UTC)

// Scheduler settings of the bench's service. The closer's work is what
// policy_close measures; the defaults (1s between checks, a second scan
// 5s after the first) would add up to 6s of waiting to it. The demo uses
// the same short settings.
const (
	policyCheckInterval = 20 * time.Millisecond
	closeGrace          = 100 * time.Millisecond
)

// requestTimeout bounds one request of a client.
const requestTimeout = 10 * time.Second

// serviceFigures runs the service on the event log, with store (caught up,
// publishing live feeds) as its read model, and measures cmd_send, feed,
// cmd_send_auth (on the embedded broker), policy_close, rebuild and intake. cmd_send_auth needs a service that
// enforces identities, which refuses the service principal's commands, so
// each runs on a service of its own, one after the other, on the same log,
// store and clock.
func (r *runner) serviceFigures(ctx context.Context, store *projector.Store) error {
	admin, err := r.env.connect("crosstalk bench admin")
	if err != nil {
		return err
	}
	cl := client.New(admin)
	clock := clock.NewSim(serviceStart)
	var convs []sendConv
	err = r.withNewService(ctx, store, clock, false, func(ctx context.Context, _ *service.Service) error {
		if _, err := publishPolicy(ctx, cl, "v1-2020-cross-app.json"); err != nil {
			return err
		}
		if convs, err = r.cmdSend(ctx); err != nil {
			return wrapPhase(figSend, err)
		}
		return wrapPhase(figFeed, r.feedFigure(ctx, store, convs))
	})
	if err == nil && r.env.ids != nil {
		err = r.withNewService(ctx, store, clock, true, func(ctx context.Context, _ *service.Service) error {
			return wrapPhase(figSendAuth, r.cmdSendAuth(ctx, convs))
		})
	}
	if err != nil {
		return err
	}
	return r.withNewService(ctx, store, clock, false, func(ctx context.Context, svc *service.Service) error {
		if err := r.policyClose(ctx, cl, store, clock); err != nil {
			return fmt.Errorf("policy_close: %w", err)
		}
		if err := wrapPhase("rebuild", r.rebuild(ctx, svc)); err != nil {
			return err
		}
		return wrapPhase(figIntake, r.intakeFigure(ctx, svc, convs))
	})
}

// withNewService runs fn beside a new service on its own connection.
func (r *runner) withNewService(ctx context.Context, store *projector.Store, clock *clock.Sim, enforce bool,
	fn func(context.Context, *service.Service) error) error {
	nc, err := r.env.connect("crosstalk bench service")
	if err != nil {
		return err
	}
	o := service.Options{
		Clock: clock, Logger: r.opts.Logger, PolicyCheckInterval: policyCheckInterval, CloseGrace: closeGrace,
		EnforceIdentity: enforce, Limits: r.limits(),
	}
	if enforce {
		// With identities enforced the share in flight is per principal,
		// and every client of cmd_send_auth is appA's one principal: its
		// Clients × InFlight commands must fit, or the figure measures
		// refusals (too_many_requests) instead of the import and checks.
		// Twice that, because a slot is released just after its reply is
		// sent, and the client's next command can arrive in between.
		o.MaxInFlightPerConnection = 2 * r.opts.Clients * r.opts.InFlight
	}
	svc := service.New(nc, r.env.log, store, o)
	return withService(ctx, svc, func(ctx context.Context) error { return fn(ctx, svc) })
}

// limits are the service's per-principal limits in the bench: every client
// of cmd_send_auth and query_inbox_auth is appA's one principal, and
// query_inbox_1client one connection, so the defaults (an app 2,000
// commands a second) would have the figures measure refusals
// (too_many_requests). The rates and bursts are a million, which no figure
// reaches, rather than none, so that every request still pays for the
// lookup of its principal's bucket and the taking of a token; the
// in-flight limits fit the clients' Clients × InFlight twice over, as
// MaxInFlightPerConnection does.
func (r *runner) limits() admission.PrincipalLimits {
	never := admission.Limit{Rate: 1e6, Burst: 1e6, InFlight: 2 * r.opts.Clients * r.opts.InFlight}
	k := admission.KindLimits{Commands: never, Queries: never}
	return admission.PrincipalLimits{App: k, Development: k}
}

// wrapPhase prefixes a phase's error with its name.
func wrapPhase(name string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// publishPolicy publishes one of the shipped policy files.
func publishPolicy(ctx context.Context, cl *client.Client, file string) (api.PublishReply, error) {
	doc, err := policies.Read(file)
	if err != nil {
		return api.PublishReply{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	r, err := cl.PublishPolicy(ctx, events.NewID(), json.RawMessage(doc))
	if err != nil {
		return r, fmt.Errorf("publish %s: %w", file, err)
	}
	return r, nil
}

// sendBody is the body of a message.send command.
type sendBody struct {
	CommandID      string         `json:"command_id"`
	Actor          events.Account `json:"actor"`
	ConversationID string         `json:"conversation_id"`
	Text           string         `json:"text"`
}

// sendConv is a conversation of cmd_send and its two participants.
type sendConv struct {
	id    string
	actor [2]events.Account
}

// cmdSend starts Conversations same-app conversations through the service,
// then measures message.send with each client waiting for every reply
// (cmd_send_sync) and with InFlight requests in flight per client
// (cmd_send_pipelined). cmd_send is the higher of the two.
func (r *runner) cmdSend(ctx context.Context) ([]sendConv, error) {
	conns, err := r.clientConns()
	if err != nil {
		return nil, err
	}
	convs, err := r.startConversations(ctx, conns)
	if err != nil {
		return nil, err
	}
	txt := text(r.opts.TextSize)
	c := r.opts.Clients
	serial, err := r.sends(ctx, "cmd_send_sync", conns, convs, 1, txt,
		fmt.Sprintf("%d clients, 1 request each in flight, %d conversations", c, len(convs)))
	if err != nil {
		return nil, err
	}
	piped, err := r.sends(ctx, figSendPiped, conns, convs, r.opts.InFlight, txt,
		fmt.Sprintf("%d clients, %d requests each in flight, %d conversations", c, r.opts.InFlight, len(convs)))
	if err != nil {
		return nil, err
	}
	best := serial
	if piped.Value > serial.Value {
		best = piped
	}
	best.Name, best.Note = figSend, "the higher of "+best.Name
	r.add(best)
	return convs, nil
}

// cmdSendAuth measures cmd_send_pipelined again, on the same
// conversations, with the clients connected as the app principal of appA
// and a service that enforces identities: each command crosses the service
// import and is checked against its caller. One untimed command per
// conversation first loads the aggregates into the new service's cache, as
// cmd_send found them warm from starting the conversations.
func (r *runner) cmdSendAuth(ctx context.Context, convs []sendConv) error {
	conns, err := r.appConns()
	if err != nil {
		return err
	}
	txt := text(r.opts.TextSize)
	if err := r.warm(ctx, conns, convs, txt); err != nil {
		return err
	}
	_, err = r.sends(ctx, figSendAuth, conns, convs, r.opts.InFlight, txt,
		fmt.Sprintf("%d clients as the app principal, %d requests each in flight, %d conversations, identities enforced",
			len(conns), r.opts.InFlight, len(convs)))
	return err
}

// warm sends one message to each conversation, through its owner's client.
func (r *runner) warm(ctx context.Context, conns []*nats.Conn, convs []sendConv, txt string) error {
	for i, conv := range convs {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		body := sendBody{CommandID: events.NewID(), Actor: conv.actor[0], ConversationID: conv.id, Text: txt}
		_, err := client.New(conns[i%len(conns)]).Command(rctx, string(appA), "message.send", body)
		cancel()
		if err != nil {
			return fmt.Errorf("warm conversation %d: %w", i, err)
		}
	}
	return nil
}

// startConversations starts the conversations of cmd_send through the
// service, spread over the clients.
func (r *runner) startConversations(ctx context.Context, conns []*nats.Conn) ([]sendConv, error) {
	convs := make([]sendConv, r.opts.Conversations)
	n := len(conns)
	for i := range convs {
		convs[i].actor = [2]events.Account{account(appA, "send-a", i), account(appA, "send-b", i)}
	}
	errs := make(chan error, n)
	for w := range n {
		go func() {
			cl := client.New(conns[w])
			for i := w; i < len(convs); i += n {
				rctx, cancel := context.WithTimeout(ctx, requestTimeout)
				rep, err := cl.Command(rctx, string(appA), "conversation.start", map[string]any{
					"command_id": events.NewID(), "actor": convs[i].actor[0], "participants": convs[i].actor[1:],
				})
				cancel()
				if err != nil {
					errs <- fmt.Errorf("start conversation %d: %w", i, err)
					return
				}
				convs[i].id = rep.ConversationID
			}
			errs <- nil
		}()
	}
	var all []error
	for range n {
		all = append(all, <-errs)
	}
	return convs, errors.Join(all...)
}

// sends runs sendLoop as the timed phase name and adds its figure.
func (r *runner) sends(ctx context.Context, name string, conns []*nats.Conn, convs []sendConv, inFlight int, txt, note string) (Figure, error) {
	var l latencies
	var elapsed time.Duration
	err := r.timedPhase(name, r.opts.Duration, func() (err error) {
		l, elapsed, err = r.sendLoop(ctx, conns, convs, inFlight, txt)
		return err
	})
	if err != nil {
		return Figure{}, err
	}
	f := requestFigure(name, "cmds/s", note, l, elapsed)
	f.CPU = r.phaseCPU
	r.add(f)
	return f, nil
}

// sendLoop runs len(conns) × inFlight senders for Duration. Sender s uses
// client s / inFlight and the conversations that client owns (every
// len(conns)-th), so two clients never write to the same conversation.
func (r *runner) sendLoop(ctx context.Context, conns []*nats.Conn, convs []sendConv, inFlight int, txt string) (latencies, time.Duration, error) {
	c := len(conns)
	return workers(ctx, c*inFlight, r.opts.Duration, func(ctx context.Context, s, i int) error {
		owner, lane := s/inFlight, s%inFlight
		conv := convs[ownedConversation(owner, c, len(convs), lane+i*inFlight)]
		body := sendBody{CommandID: events.NewID(), Actor: conv.actor[i%2], ConversationID: conv.id, Text: txt}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		_, err := client.New(conns[owner]).Command(rctx, string(appA), "message.send", body)
		return err
	})
}

// ownedConversation is the k-th conversation (round robin) of client owner
// of c, out of n: those whose index is owner modulo c, or, with fewer
// conversations than clients, the one at owner modulo n.
func ownedConversation(owner, c, n, k int) int {
	if n < c {
		return owner % n
	}
	mine := (n - owner + c - 1) / c
	return owner + c*(k%mine)
}
