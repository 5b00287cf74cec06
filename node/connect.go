package node

import (
	"fmt"

	"github.com/nats-io/nats.go"
)

// Connect connects to the NATS server at url under the connection name
// name, with opts after crosstalk's own. Every command, the node and the
// offline tools connect through here, so that how crosstalk reaches and
// authenticates to NATS is decided in one place.
func Connect(url, name string, opts ...nats.Option) (*nats.Conn, error) {
	nc, err := nats.Connect(url, append([]nats.Option{nats.Name(name)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	return nc, nil
}
