package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// serviceFigures runs the service on the event log, with store (caught up)
// as its read model, and measures cmd_send, policy_close and rebuild.
func (r *runner) serviceFigures(ctx context.Context, store *projector.Store) error {
	nc, err := r.env.connect("crosstalk bench service")
	if err != nil {
		return err
	}
	admin, err := r.env.connect("crosstalk bench admin")
	if err != nil {
		return err
	}
	clock := service.NewSimClock(serviceStart)
	svc := service.New(nc, r.env.log, store, service.Options{
		Clock: clock, Logger: r.opts.Logger, PolicyCheckInterval: policyCheckInterval, CloseGrace: closeGrace,
	})
	return withService(ctx, svc, func(ctx context.Context) error {
		cl := client.New(admin)
		if _, err := publishPolicy(ctx, cl, "v1-2020-cross-app.json"); err != nil {
			return err
		}
		if err := r.cmdSend(ctx); err != nil {
			return fmt.Errorf("cmd_send: %w", err)
		}
		if err := r.policyClose(ctx, cl, store, clock); err != nil {
			return fmt.Errorf("policy_close: %w", err)
		}
		if err := r.rebuild(ctx, svc); err != nil {
			return fmt.Errorf("rebuild: %w", err)
		}
		return nil
	})
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
func (r *runner) cmdSend(ctx context.Context) error {
	conns, err := r.clientConns()
	if err != nil {
		return err
	}
	convs, err := r.startConversations(ctx, conns)
	if err != nil {
		return err
	}
	txt := text(r.opts.TextSize)
	c := r.opts.Clients
	serial, err := r.sends(ctx, "cmd_send_sync", conns, convs, 1, txt,
		fmt.Sprintf("%d clients, 1 request each in flight, %d conversations", c, len(convs)))
	if err != nil {
		return err
	}
	piped, err := r.sends(ctx, "cmd_send_pipelined", conns, convs, r.opts.InFlight, txt,
		fmt.Sprintf("%d clients, %d requests each in flight, %d conversations", c, r.opts.InFlight, len(convs)))
	if err != nil {
		return err
	}
	best := serial
	if piped.Value > serial.Value {
		best = piped
	}
	best.Name, best.Note = figSend, "the higher of "+best.Name
	r.add(best)
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

// sends runs Clients × inFlight senders for Duration. Sender s uses client
// s / inFlight and the conversations that client owns (every Clients-th),
// so two clients never write to the same conversation.
func (r *runner) sends(ctx context.Context, name string, conns []*nats.Conn, convs []sendConv, inFlight int, txt, note string) (Figure, error) {
	c := len(conns)
	var l latencies
	var elapsed time.Duration
	err := r.timedPhase(name, r.opts.Duration, func() (err error) {
		l, elapsed, err = workers(ctx, c*inFlight, r.opts.Duration, func(ctx context.Context, s, i int) error {
			owner, lane := s/inFlight, s%inFlight
			conv := convs[ownedConversation(owner, c, len(convs), lane+i*inFlight)]
			body := sendBody{CommandID: events.NewID(), Actor: conv.actor[i%2], ConversationID: conv.id, Text: txt}
			rctx, cancel := context.WithTimeout(ctx, requestTimeout)
			defer cancel()
			_, err := client.New(conns[owner]).Command(rctx, string(appA), "message.send", body)
			return err
		})
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
