// Package natstest starts real, in-process NATS servers with JetStream for
// the integration tests of crosstalk's packages.
//
// Tests never mock the broker: each test that needs one calls Start, which
// runs a nats-server on a random loopback port with its JetStream store in
// the test's temporary directory, and stops it when the test ends. A test of
// crash recovery stops the server with Shutdown and starts another on the
// same store with Restart or StartWithDir.
package natstest

import (
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// readyTimeout bounds how long Start waits for the server to accept clients.
const readyTimeout = 10 * time.Second

// Server is a running in-process nats-server with JetStream enabled.
type Server struct {
	// NATS is the embedded server, for tests that need to inspect it
	// (JetStream state, connection counts) or stop it abruptly.
	NATS *server.Server

	dir  string
	port int
}

// Start runs a JetStream-enabled nats-server on a random loopback port with
// its store in a fresh t.TempDir, and shuts it down when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWithDir(t, t.TempDir())
}

// StartWithDir is Start with the JetStream store in dir, so that a test can
// stop a server and start another one on the same data to test restarts.
// Only one running server may use dir at a time.
func StartWithDir(t testing.TB, dir string) *Server {
	t.Helper()
	return start(t, dir, server.RANDOM_PORT)
}

// StartSyncAlways is Start with SyncAlways, as `serve --sync-always` runs
// the embedded server: every JetStream write is fsynced before its ack.
func StartSyncAlways(t testing.TB) *Server {
	t.Helper()
	return startWith(t, t.TempDir(), server.RANDOM_PORT, func(o *server.Options) { o.SyncAlways = true })
}

// Restart shuts s down, if it is still running, and starts a new server on
// the same store directory and the same client port, so that connections
// made with Connect reconnect to the new server by themselves.
func (s *Server) Restart(t testing.TB) *Server {
	t.Helper()
	s.Shutdown()
	return start(t, s.dir, s.port)
}

func start(t testing.TB, dir string, port int) *Server {
	t.Helper()
	return startWith(t, dir, port, func(*server.Options) {})
}

// startWith starts a server with the options of Start, changed by edit.
func startWith(t testing.TB, dir string, port int, edit func(*server.Options)) *Server {
	t.Helper()
	opts := &server.Options{
		Host:      "127.0.0.1",
		Port:      port,
		JetStream: true,
		StoreDir:  dir,
		NoLog:     true,
		NoSigs:    true,
	}
	edit(opts)
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("natstest: configure nats-server: %v", err)
	}
	go ns.Start()
	s := &Server{NATS: ns, dir: dir}
	t.Cleanup(s.Shutdown)
	if !ns.ReadyForConnections(readyTimeout) {
		t.Fatalf("natstest: nats-server on %s not ready for connections after %s", dir, readyTimeout)
	}
	s.port = ns.Addr().(*net.TCPAddr).Port
	return s
}

// Shutdown stops the server and waits until it has stopped. It is safe to
// call more than once; Start registers it as a test cleanup.
func (s *Server) Shutdown() {
	s.NATS.Shutdown()
	s.NATS.WaitForShutdown()
}

// URL is the client URL of the server, nats://127.0.0.1:<port>.
func (s *Server) URL() string {
	return s.NATS.ClientURL()
}

// Dir is the JetStream store directory of the server.
func (s *Server) Dir() string {
	return s.dir
}

// Connect opens a client connection to the server, named after the test,
// and closes it when the test ends. Extra options are applied after the
// defaults.
func (s *Server) Connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	opts = append([]nats.Option{nats.Name(t.Name())}, opts...)
	nc, err := nats.Connect(s.URL(), opts...)
	if err != nil {
		t.Fatalf("natstest: connect to %s: %v", s.URL(), err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// JetStream returns a JetStream context on a new connection made with
// Connect, closed when the test ends.
func (s *Server) JetStream(t testing.TB) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(s.Connect(t))
	if err != nil {
		t.Fatalf("natstest: jetstream context: %v", err)
	}
	return js
}
