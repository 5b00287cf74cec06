package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/service"
)

// cmdSendDurable measures cmd_send_durable: the workload of
// cmd_send_pipelined on a node as `serve --sync-always` runs it, a second
// embedded broker that fsyncs every JetStream write before its ack and a
// store that syncs every batch, with its own event log, service and
// conversations. SyncAlways is a setting of the whole server, so it cannot
// share the first broker; only the embedded broker can be started so, and
// with Options.NatsURL the figure is skipped. It runs last, so that its
// broker adds nothing to the other figures.
func (r *runner) cmdSendDurable(ctx context.Context) error {
	if r.env.srv == nil {
		return nil
	}
	denv, err := startEnv(ctx, r.opts, envKind{durable: true})
	if err != nil {
		return err
	}
	d := &runner{opts: r.opts, env: denv, progress: r.progress}
	err = d.durableSends(ctx)
	r.result.Figures = append(r.result.Figures, d.result.Figures...)
	return errors.Join(err, denv.close())
}

// durableSends publishes policy version 1, starts the conversations and
// sends, as cmd_send does, on d's (durable) environment, its views
// publishing live feeds as cmd_send's do.
func (d *runner) durableSends(ctx context.Context) error {
	feeds, err := d.env.feeds("crosstalk bench durable feeds")
	if err != nil {
		return err
	}
	store, err := d.env.openStore("durable", feeds)
	if err != nil {
		return err
	}
	admin, err := d.env.connect("crosstalk bench durable admin")
	if err != nil {
		return err
	}
	clock := service.NewSimClock(serviceStart)
	return d.withNewService(ctx, store, clock, false, func(ctx context.Context, _ *service.Service) error {
		if _, err := publishPolicy(ctx, client.New(admin), "v1-2020-cross-app.json"); err != nil {
			return err
		}
		conns, err := d.clientConns()
		if err != nil {
			return err
		}
		convs, err := d.startConversations(ctx, conns)
		if err != nil {
			return err
		}
		_, err = d.sends(ctx, figSendDurable, conns, convs, d.opts.InFlight, text(d.opts.TextSize),
			fmt.Sprintf("serve --sync-always (fsync before every ack, views synced every batch); %d clients, %d requests each in flight, %d conversations",
				len(conns), d.opts.InFlight, len(convs)))
		return err
	})
}
