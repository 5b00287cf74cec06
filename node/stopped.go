package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/broker"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// StoppedOptions say which stopped node to open and what of it.
type StoppedOptions struct {
	// Dir is the data directory of the stopped node. Required.
	Dir string
	// Views opens the node's views as well. Without them, the lock of the
	// views is still checked.
	Views bool
	// Name is the name of the NATS connection. Default: "crosstalk audit".
	Name string
	// Logger receives the log's and the views' messages.
	// Default: slog.Default().
	Logger *slog.Logger
}

// Stopped is a stopped node's data opened for reading: an embedded
// nats-server of its own on the node's JetStream files (on a free loopback
// port), the event log and, when asked for and present, the views.
type Stopped struct {
	layout Layout
	srv    *server.Server
	nc     *nats.Conn
	log    *eventlog.Log
	views  *projector.Store
}

// OpenStopped opens the data directory of a stopped node. It refuses a
// directory a node runs on (ErrInUse) before it starts a second nats-server
// on its JetStream files, and one without a crosstalk stream (ErrNoStream):
// it never creates a stream, as reading a place without one is an error,
// not a new empty history. The data of a node that ran under an identity
// configuration opens too: its streams are in the service account, which
// the second server then serves to its one, local, connection.
func OpenStopped(ctx context.Context, o StoppedOptions) (*Stopped, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Name == "" {
		o.Name = "crosstalk audit"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Stopped{layout: Layout{Dir: o.Dir}}
	if err := s.open(ctx, o); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

func (s *Stopped) open(ctx context.Context, o StoppedOptions) error {
	if err := s.layout.checkHistory(); err != nil {
		return err
	}
	// The lock of the views is checked first, so that a node running on
	// them is found before a second nats-server is started; they are opened
	// once the log says how many streams they follow.
	if err := s.layout.CheckStopped(); err != nil {
		return err
	}
	srv, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", JetStreamDir: s.layout.JetStream(),
		Account: s.layout.streamsAccount()})
	if err != nil {
		return err
	}
	s.srv = srv
	if s.nc, err = Connect(srv.ClientURL(), o.Name); err != nil {
		return fmt.Errorf("the embedded nats-server: %w", err)
	}
	if s.log, err = OpenExistingLog(ctx, s.nc, "in "+o.Dir, o.Logger); err != nil {
		return err
	}
	return s.openViews(o)
}

// openViews opens the views if asked for and present; otherwise it only
// checks their lock.
func (s *Stopped) openViews(o StoppedOptions) error {
	if err := s.layout.CheckStopped(); err != nil || !o.Views {
		return err
	}
	views, err := s.layout.openStoppedViews(o.Logger, len(s.log.Streams()))
	s.views = views
	return err
}

// openStoppedViews opens the views of a stopped node in l, nil (and no
// error) when it has none, having finished or discarded an online rebuild
// a crash interrupted (settleViews). streams is the number of streams of
// the log they follow (eventlog.Log.Streams). The caller has checked that
// no node runs on l (CheckStopped): Pebble's lock refuses a second opener
// anyway.
func (l Layout) openStoppedViews(logger *slog.Logger, streams int) (*projector.Store, error) {
	if _, err := l.settleViews(); err != nil {
		return nil, fmt.Errorf("views of %s: %w", l.Dir, err)
	}
	dir := l.Views()
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	views, err := projector.Open(projector.Options{Dir: dir, Logger: logger, Streams: streams})
	if err != nil {
		return nil, fmt.Errorf("open the views in %s: %w", dir, err)
	}
	return views, nil
}

// OpenExistingLog opens the event log on nc if the stream CROSSTALK exists,
// and returns an error wrapping ErrNoStream if not: it never creates or
// updates a stream (eventlog.OpenExisting), so read-only credentials do.
// where says where the stream was looked for, for the error.
func OpenExistingLog(ctx context.Context, nc *nats.Conn, where string, logger *slog.Logger) (*eventlog.Log, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	log, err := eventlog.OpenExisting(ctx, js, eventlog.Options{Logger: logger})
	if errors.Is(err, eventlog.ErrNoStream) {
		return nil, fmt.Errorf("%w %s: there is no stream %s", ErrNoStream, where, events.StreamName)
	}
	return log, err
}

// Layout is where the stopped node keeps its files.
func (s *Stopped) Layout() Layout { return s.layout }

// Conn is the connection to the embedded nats-server on the node's files.
func (s *Stopped) Conn() *nats.Conn { return s.nc }

// Log is the node's event log.
func (s *Stopped) Log() *eventlog.Log { return s.log }

// Views is the node's read model; nil unless StoppedOptions.Views was set
// and the directory has views.
func (s *Stopped) Views() *projector.Store { return s.views }

// Close closes the connection and the views and stops the embedded
// nats-server, in reverse order of opening.
func (s *Stopped) Close() error {
	if s.nc != nil {
		s.nc.Close()
	}
	var err error
	if s.views != nil {
		err = s.views.Close()
	}
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
	}
	return err
}
