package node

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
)

// ErrExternalServer is a question only the embedded server can answer,
// asked of a node on Options.NatsURL.
var ErrExternalServer = errors.New("the node runs on an external NATS server")

// Interest reports whether a message the node publishes on subject now
// reaches a subscriber: one in the node's own account, or one in an account
// that imports subject (the server keeps a subscription through a stream
// import in the exporting account too). `crosstalk demo --watch` waits on
// it for a subscriber to a live feed. Only the embedded server can tell
// (ErrExternalServer).
func (n *Node) Interest(subject string) (bool, error) {
	if n.srv == nil {
		return false, ErrExternalServer
	}
	cid, err := n.nc.GetClientID()
	if err != nil {
		return false, err
	}
	connz, err := n.srv.Connz(&server.ConnzOptions{CID: cid, Username: true})
	if err != nil {
		return false, err
	}
	if len(connz.Conns) != 1 {
		return false, fmt.Errorf("the embedded server does not know the node's connection %d", cid)
	}
	acc := n.srv.GlobalAccount() // a server without accounts (development mode), which Connz leaves unnamed
	if name := connz.Conns[0].Account; name != "" {
		if acc, err = n.srv.LookupAccount(name); err != nil {
			return false, err
		}
	}
	return acc.SubscriptionInterest(subject), nil
}
