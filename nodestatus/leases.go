package nodestatus

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/lease"
)

// leases reads who holds each singleton's lease (lease.Holders): a lease
// nobody holds is left out.
func (r *Reporter) leases(ctx context.Context) (map[string]api.LeaseInfo, error) {
	js, err := jetstream.New(r.cfg.Conn)
	if err != nil {
		return nil, err
	}
	holders, err := lease.Holders(ctx, js)
	if err != nil {
		return nil, err
	}
	out := make(map[string]api.LeaseInfo, len(holders))
	for name, h := range holders {
		out[name] = api.LeaseInfo{Node: h.Node, Term: h.Term, Since: h.Since}
	}
	return out, nil
}
