package bench

import (
	"context"
	"fmt"
)

// PartitionsFigure is the number of partitions of cmd_send_partitions' log.
const PartitionsFigure = 4

// cmdSendPartitions measures cmd_send_partitions: the workload of
// cmd_send_pipelined on a log of PartitionsFigure partitions (serve
// --partitions 4), on an embedded broker of its own (ownBroker), so that
// its CPU per command sits beside cmd_send's in the same run.
func (r *runner) cmdSendPartitions(ctx context.Context) error {
	return r.measureOnOwnBroker(ctx, ownBroker{kind: envKind{partitions: PartitionsFigure}, name: figSendPartitions, tag: "partitions",
		note: func(clients, convs int) string {
			return fmt.Sprintf("%d partitions (streams CROSSTALK_P0..P%d, CROSSTALK_POLICY); %d clients, %d requests each in flight, %d conversations",
				PartitionsFigure, PartitionsFigure-1, clients, r.opts.InFlight, convs)
		}})
}
