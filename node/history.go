package node

import (
	"context"
	"errors"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// Source says which history to read: the stream of a running NATS server
// (URL, online) or a stopped node's data directory (Dir, offline). With
// both, the stream is URL's, and the views, when asked for, are those in
// Dir: a stopped cluster node's, checked against its cluster's stream.
type Source struct {
	// URL is a NATS server with crosstalk's streams, read through JetStream
	// only: the views belong to the node serving them.
	URL string
	// Dir is the data directory of a stopped node, read through an embedded
	// nats-server of the reader's own (see OpenStopped).
	Dir string
	// Credentials authenticate to URL: under crosstalk's identity
	// configuration, the auditor's, which may read the streams and change
	// nothing. Unused offline.
	Credentials Credentials
}

// History is a history opened for reading by the audit and replay tools:
// the event log, and the views of a stopped node when asked for and
// present. Close releases it.
type History struct {
	stopped   *Stopped // offline
	nc        *nats.Conn
	log       *eventlog.Log
	views     *projector.Store
	viewsNote string
	logger    *slog.Logger
}

// OpenHistory opens the history src names, and with withViews the views of
// a stopped node's data directory. It never creates a stream: reading a
// place without one is an error wrapping ErrNoStream, not a new empty
// history. A data directory a node runs on is refused with an error
// wrapping ErrInUse, before anything else about it is looked at.
func OpenHistory(ctx context.Context, src Source, withViews bool, logger *slog.Logger) (*History, error) {
	if logger == nil {
		logger = slog.Default()
	}
	h := &History{logger: logger}
	var err error
	if src.URL != "" {
		err = h.openOnline(ctx, src.URL, src.Credentials)
		if err == nil && withViews && src.Dir != "" {
			err = h.openNodeViews(src.Dir)
		}
	} else {
		err = h.openOffline(ctx, src.Dir, withViews)
	}
	if err != nil {
		return nil, errors.Join(err, h.Close())
	}
	return h, nil
}

func (h *History) openOnline(ctx context.Context, url string, creds Credentials) error {
	nc, err := ConnectWith(url, "crosstalk audit", creds)
	if err != nil {
		return err
	}
	h.nc = nc
	h.log, err = OpenExistingLog(ctx, nc, "on "+url, h.logger)
	if err != nil {
		return err
	}
	return catchUpMirrors(ctx, nc, h.logger, append(h.log.StreamNames(), events.AuditStreamName)...)
}

// openNodeViews opens the views of the stopped node whose data directory
// is dir, beside a stream read online: the node's own JetStream (none, on
// a cluster) is not looked at. A directory a node runs on is refused
// (ErrInUse): its views change under the reader, and Pebble locks them.
func (h *History) openNodeViews(dir string) error {
	l := Layout{Dir: dir}
	if err := l.CheckStopped(); err != nil {
		return err
	}
	views, err := l.openStoppedViews(h.logger, len(h.log.Streams()))
	if err != nil {
		return err
	}
	h.views = views
	if views == nil {
		h.viewsNote = "there are none in " + l.Views()
	}
	return nil
}

// openOffline opens a stopped node's data directory. The lock of the views
// is checked first, so that a directory a node runs on is reported as in
// use even when it has no JetStream files of its own (a node on an
// external NATS server).
func (h *History) openOffline(ctx context.Context, dir string, withViews bool) error {
	if err := (Layout{Dir: dir}).CheckStopped(); err != nil {
		return err
	}
	s, err := OpenStopped(ctx, StoppedOptions{Dir: dir, Views: withViews, Logger: h.logger})
	if err != nil {
		return err
	}
	h.stopped, h.nc, h.log, h.views = s, s.Conn(), s.Log(), s.Views()
	if withViews && h.views == nil {
		h.viewsNote = "there are none in " + s.Layout().Views()
	}
	return nil
}

// Log is the event log, the stream CROSSTALK.
func (h *History) Log() *eventlog.Log { return h.log }

// Views is the stopped node's read model: nil without withViews, online
// without a Source.Dir, or when the directory has none.
func (h *History) Views() *projector.Store { return h.views }

// ViewsNote says why a data directory opened with withViews has no views,
// and is "" otherwise.
func (h *History) ViewsNote() string { return h.viewsNote }

// Conn is the connection the history is read through.
func (h *History) Conn() *nats.Conn { return h.nc }

// Rejections opens the log of refused commands, the stream CROSSTALK_AUDIT,
// as it is: it never creates or updates the stream, as a reader must not
// change what it reads (and the auditor may not). Without the stream it
// returns nil and a note saying why.
func (h *History) Rejections(ctx context.Context) (*eventlog.Rejections, string, error) {
	js, err := jetstream.New(h.nc)
	if err != nil {
		return nil, "", err
	}
	r, err := eventlog.OpenExistingRejections(ctx, js, h.logger)
	if errors.Is(err, eventlog.ErrNoStream) {
		return nil, "there is no stream " + events.AuditStreamName + ": refused commands were not recorded", nil
	}
	return r, "", err
}

// Close releases everything OpenHistory opened.
func (h *History) Close() error {
	if h.stopped != nil {
		return h.stopped.Close()
	}
	if h.nc != nil {
		h.nc.Close()
	}
	if h.views != nil {
		return h.views.Close() // a cluster node's, opened beside the stream
	}
	return nil
}
