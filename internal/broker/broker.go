// Package broker starts the embedded nats-server that crosstalk runs on by
// default, so that a fresh machine needs nothing but the crosstalk binary.
package broker

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options configure the embedded server.
type Options struct {
	// Listen is the client address, host:port. Default: 127.0.0.1:4222.
	// Port 0 or -1 picks a free port.
	Listen string
	// JetStreamDir is where JetStream keeps its files: the caller's layout
	// (node.Layout.JetStream) decides where that is. Required.
	JetStreamDir string
	// SyncInterval is how often JetStream fsyncs its files; 0 keeps the
	// server's default (2 minutes), and SyncAlways fsyncs every write.
	SyncInterval time.Duration
	// SyncAlways makes every acknowledged write durable on disk before the
	// acknowledgement, at a cost in throughput.
	SyncAlways bool
}

// Start starts the server and waits until it accepts connections.
func Start(o Options) (*server.Server, error) {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:4222"
	}
	host, portText, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w (want host:port)", o.Listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: port is not a number", o.Listen)
	}
	if port == 0 {
		port = -1
	}
	opts := &server.Options{
		ServerName: "crosstalk", Host: host, Port: port, JetStream: true,
		StoreDir: o.JetStreamDir, NoSigs: true, NoLog: true,
		SyncInterval: o.SyncInterval, SyncAlways: o.SyncAlways,
		MaxPayload: 1 << 20,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats-server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("embedded nats-server did not start listening on %s within 10s", o.Listen)
	}
	return s, nil
}
