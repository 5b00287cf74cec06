package bench

import (
	"context"
	"errors"
	"fmt"
	"github.com/crosstalk-dev/crosstalk/clock"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/service"
)

// ownBroker is a figure measured on an embedded broker of its own, with its
// own event log, views (publishing live feeds), service and conversations:
// the workload of cmd_send_pipelined on a setting the first broker cannot
// take (a server-wide fsync, a partitioned log).
type ownBroker struct {
	kind envKind
	name string // the figure
	tag  string // names its connections and store
	// note is the figure's note after its setting, given the clients and
	// the conversations.
	note func(clients, conversations int) string
}

// measureOnOwnBroker measures b after the other figures, so that its broker
// adds nothing to theirs. With Options.NatsURL it is skipped: only the
// embedded broker can be started so.
func (r *runner) measureOnOwnBroker(ctx context.Context, b ownBroker) error {
	if r.env.srv == nil {
		return nil
	}
	env, err := startEnv(ctx, r.opts, b.kind)
	if err != nil {
		return err
	}
	o := &runner{opts: r.opts, env: env, progress: r.progress}
	err = o.sendsOn(ctx, b)
	r.result.Figures = append(r.result.Figures, o.result.Figures...)
	return errors.Join(err, env.close())
}

// sendsOn publishes policy version 1, starts the conversations and sends,
// as cmd_send does, on o's own environment.
func (o *runner) sendsOn(ctx context.Context, b ownBroker) error {
	feeds, err := o.env.feeds(fmt.Sprintf("crosstalk bench %s feeds", b.tag))
	if err != nil {
		return err
	}
	store, err := o.env.openStore(b.tag, feeds)
	if err != nil {
		return err
	}
	admin, err := o.env.connect(fmt.Sprintf("crosstalk bench %s admin", b.tag))
	if err != nil {
		return err
	}
	clock := clock.NewSim(serviceStart)
	return o.withNewService(ctx, store, clock, false, func(ctx context.Context, _ *service.Service) error {
		if _, err := publishPolicy(ctx, client.New(admin), "v1-2020-cross-app.json"); err != nil {
			return err
		}
		conns, err := o.clientConns()
		if err != nil {
			return err
		}
		convs, err := o.startConversations(ctx, conns)
		if err != nil {
			return err
		}
		_, err = o.sends(ctx, b.name, conns, convs, o.opts.InFlight, text(o.opts.TextSize), b.note(len(conns), len(convs)))
		return err
	})
}
