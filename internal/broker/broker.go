// Package broker starts the embedded nats-server that crosstalk runs on by
// default, so that a fresh machine needs nothing but the crosstalk binary.
package broker

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options configure the embedded server.
type Options struct {
	// Listen is the client address, host:port. Default: 127.0.0.1:4222,
	// or the configuration file's with ConfigFile. Port 0 or -1 picks a
	// free port.
	Listen string
	// ConfigFile is a nats-server configuration file (accounts, users,
	// TLS, ...) to run; empty runs an open server without authentication.
	// Listen, JetStreamDir and the sync settings override the file's.
	ConfigFile string
	// JetStreamDir is where JetStream keeps its files: the caller's layout
	// (node.Layout.JetStream) decides where that is. Required.
	JetStreamDir string
	// SyncInterval is how often JetStream fsyncs its files; 0 keeps the
	// server's default (2 minutes), and SyncAlways fsyncs every write.
	SyncInterval time.Duration
	// SyncAlways makes every acknowledged write durable on disk before the
	// acknowledgement, at a cost in throughput.
	SyncAlways bool
	// Account, when set, serves the JetStream files of that one account to
	// every connection, without credentials: a node that ran under a
	// configuration keeps its streams under its service account's name,
	// which an open server (whose connections are in its global account)
	// never loads. For opening such a node's data offline, on loopback.
	// Not with ConfigFile.
	Account string
}

// Start starts the server and waits until it accepts connections.
func Start(o Options) (*server.Server, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	opts, err := serverOptions(o)
	if err != nil {
		return nil, err
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats-server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("embedded nats-server did not start listening on %s within 10s",
			net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)))
	}
	if err := enableAccount(s, o.Account); err != nil {
		s.Shutdown()
		return nil, err
	}
	return s, nil
}

// offlineUser is the user, without a password, that every connection to a
// server of Options.Account is.
const offlineUser = "offline"

// withAccount makes opts an open server whose connections are all in
// account: its one user, with no password, is the no-auth user.
func withAccount(opts *server.Options, account string) {
	acc := server.NewAccount(account)
	opts.Accounts = []*server.Account{acc}
	opts.Users = []*server.User{{Username: offlineUser, Account: acc}}
	opts.NoAuthUser = offlineUser
}

// enableAccount turns JetStream on for account, which loads its streams
// from the store directory; the configuration file's syntax for it
// (jetstream: enabled) has no counterpart in server.Options.
func enableAccount(s *server.Server, account string) error {
	if account == "" {
		return nil
	}
	acc, err := s.LookupAccount(account)
	if err != nil {
		return fmt.Errorf("embedded nats-server: account %s: %w", account, err)
	}
	unlimited := server.JetStreamAccountLimits{MaxMemory: -1, MaxStore: -1, MaxStreams: -1, MaxConsumers: -1,
		MaxAckPending: -1, MemoryMaxStreamBytes: -1, StoreMaxStreamBytes: -1}
	if err := acc.EnableJetStream(map[string]server.JetStreamAccountLimits{"": unlimited}, nil); err != nil {
		return fmt.Errorf("embedded nats-server: JetStream for account %s: %w", account, err)
	}
	return nil
}

// serverOptions are the server's options: the configuration file's, or an
// open server's, with crosstalk's own settings on top. The data directory
// decides where JetStream keeps its files, whatever the file says, so that
// one data directory is one node.
func serverOptions(o Options) (*server.Options, error) {
	opts := &server.Options{ServerName: "crosstalk", MaxPayload: 1 << 20}
	if o.ConfigFile != "" {
		var err error
		if opts, err = server.ProcessConfigFile(o.ConfigFile); err != nil {
			return nil, fmt.Errorf("nats-server configuration: %w", err)
		}
		if opts.ServerName == "" {
			opts.ServerName = "crosstalk"
		}
	} else if o.Listen == "" {
		o.Listen = "127.0.0.1:4222"
	}
	if o.Account != "" {
		if o.ConfigFile != "" {
			return nil, errors.New("embedded nats-server: an account to open and a configuration file exclude each other")
		}
		withAccount(opts, o.Account)
	}
	if o.Listen != "" {
		host, port, err := splitListen(o.Listen)
		if err != nil {
			return nil, err
		}
		opts.Host, opts.Port = host, port
	}
	opts.JetStream, opts.StoreDir = true, o.JetStreamDir
	opts.NoSigs, opts.NoLog = true, true
	if o.SyncInterval != 0 {
		opts.SyncInterval = o.SyncInterval
	}
	opts.SyncAlways = opts.SyncAlways || o.SyncAlways
	return opts, nil
}

// splitListen parses host:port; port 0 becomes -1, the server's "any free
// port".
func splitListen(listen string) (string, int, error) {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("listen address %q: %w (want host:port)", listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return "", 0, fmt.Errorf("listen address %q: port is not a number", listen)
	}
	if port == 0 {
		port = -1
	}
	return host, port, nil
}
