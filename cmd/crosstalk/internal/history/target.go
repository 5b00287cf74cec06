package history

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/crosstalk-dev/crosstalk/node"
)

// Target says which history an audit reads: a node's data directory
// (offline), or a running NATS server (online, JetStream only).
type Target struct {
	DataDir string
	NatsURL string
	// ViewsOnline is set when verify is given --data with --nats-url: the
	// stream is the server's, the views those in DataDir (a stopped
	// cluster node's).
	ViewsOnline bool
	// Credentials authenticate to NatsURL, e.g. as the auditor.
	Credentials node.Credentials
	JSON        bool
	// Logger gets the embedded server's and the store's warnings.
	Logger *slog.Logger
}

// viewsNote says why verify checked no views.
func viewsNote(t Target, h *node.History) string {
	if t.NatsURL != "" && !t.ViewsOnline {
		return "--nats-url alone reads JetStream only; add --data DIR of a stopped node to check its views against this stream"
	}
	return h.ViewsNote()
}

// Open opens the history t names (see node.OpenHistory), and says
// what to do when a data directory cannot be read.
func Open(ctx context.Context, t Target, withViews bool) (*node.History, error) {
	src := node.Source{URL: t.NatsURL, Dir: t.DataDir, Credentials: t.Credentials}
	if t.NatsURL != "" && !t.ViewsOnline {
		src.Dir = "" // the default --data: no views beside the server's stream
	}
	h, err := node.OpenHistory(ctx, src, withViews, t.Logger)
	switch {
	case err == nil:
	case t.NatsURL == "":
		err = offlineError(err)
	case errors.Is(err, node.ErrInUse):
		err = fmt.Errorf("%w: is 'crosstalk serve' running on this directory? Stop that node first: "+
			"its views change while it runs, and it holds their lock", err)
	}
	return h, err
}

// offlineError says what to do about a data directory that cannot be read.
func offlineError(err error) error {
	switch {
	case errors.Is(err, node.ErrInUse):
		return fmt.Errorf("%w: is 'crosstalk serve' running on this directory? "+
			"stop it first, or read the running service with --nats-url", err)
	case errors.Is(err, node.ErrNoStream):
		return fmt.Errorf("%w (give the --data directory of a crosstalk node)", err)
	}
	return err
}
