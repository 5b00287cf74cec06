package bench

import (
	"context"
	"fmt"
)

// cmdSendDurable measures cmd_send_durable: the workload of
// cmd_send_pipelined on a node as `serve --sync-always` runs it, a second
// embedded broker that fsyncs every JetStream write before its ack and a
// store that syncs every batch (ownBroker). SyncAlways is a setting of the
// whole server, so it cannot share the first broker.
func (r *runner) cmdSendDurable(ctx context.Context) error {
	return r.measureOnOwnBroker(ctx, ownBroker{kind: envKind{durable: true}, name: figSendDurable, tag: "durable",
		note: func(clients, convs int) string {
			return fmt.Sprintf("serve --sync-always (fsync before every ack, views synced every batch); %d clients, %d requests each in flight, %d conversations",
				clients, r.opts.InFlight, convs)
		}})
}
