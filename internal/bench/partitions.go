package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/service"
)

// PartitionsFigure is the number of partitions of cmd_send_partitions' log.
const PartitionsFigure = 4

// cmdSendPartitions measures cmd_send_partitions: the workload of
// cmd_send_pipelined on a log of PartitionsFigure partitions (serve
// --partitions 4), on an embedded broker of its own with its own service,
// views (following every stream, publishing live feeds) and
// conversations, so that its CPU per command sits beside cmd_send's in the
// same run. With Options.NatsURL it is skipped, as cmd_send_durable is: it
// runs last.
func (r *runner) cmdSendPartitions(ctx context.Context) error {
	if r.env.srv == nil {
		return nil
	}
	penv, err := startEnv(ctx, r.opts, envKind{partitions: PartitionsFigure})
	if err != nil {
		return err
	}
	p := &runner{opts: r.opts, env: penv, progress: r.progress}
	err = p.partitionedSends(ctx)
	r.result.Figures = append(r.result.Figures, p.result.Figures...)
	return errors.Join(err, penv.close())
}

// partitionedSends publishes policy version 1, starts the conversations and
// sends, as cmd_send does, on p's partitioned environment.
func (p *runner) partitionedSends(ctx context.Context) error {
	feeds, err := p.env.feeds("crosstalk bench partitions feeds")
	if err != nil {
		return err
	}
	store, err := p.env.openStore("partitions", feeds)
	if err != nil {
		return err
	}
	admin, err := p.env.connect("crosstalk bench partitions admin")
	if err != nil {
		return err
	}
	clock := service.NewSimClock(serviceStart)
	return p.withNewService(ctx, store, clock, false, func(ctx context.Context, _ *service.Service) error {
		if _, err := publishPolicy(ctx, client.New(admin), "v1-2020-cross-app.json"); err != nil {
			return err
		}
		conns, err := p.clientConns()
		if err != nil {
			return err
		}
		convs, err := p.startConversations(ctx, conns)
		if err != nil {
			return err
		}
		_, err = p.sends(ctx, figSendPartitions, conns, convs, p.opts.InFlight, text(p.opts.TextSize),
			fmt.Sprintf("%d partitions (streams CROSSTALK_P0..P%d, CROSSTALK_POLICY); %d clients, %d requests each in flight, %d conversations",
				PartitionsFigure, PartitionsFigure-1, len(conns), p.opts.InFlight, len(convs)))
		return err
	})
}
