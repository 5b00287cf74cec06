package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/metrics"
	"github.com/crosstalk-dev/crosstalk/service"
)

// DefaultReadyMaxLag is how many events the read model may be behind the
// log before /readyz fails, unless told otherwise.
const DefaultReadyMaxLag = 10_000

// readyTimeout bounds the questions /readyz asks the log.
const readyTimeout = 2 * time.Second

// newMetrics builds the node's registry, reading its scrape-time figures
// from the service, whichever read model it answers from then.
func (n *Node) newMetrics() *metrics.Registry {
	return metrics.New(metrics.Sources{
		Lag:              func(ctx context.Context) (uint64, float64, error) { return n.svc.Lag(ctx) },
		CachedAggregates: func() (int, int) { return n.svc.CachedAggregates() },
		Closer: func() map[uint64]metrics.Progress {
			all := map[uint64]metrics.Progress{}
			views := n.svc.Views()
			if views == nil {
				return all // no read model, no closer
			}
			for v, p := range n.svc.ClosingProgress() {
				closed, _ := views.PolicyClosed(v) // a closed store (a swap) reads 0 for one scrape
				all[v] = metrics.Progress{Affected: p.Affected, Closed: closed, Applied: p.Applied}
			}
			return all
		},
		Pebble: func() (*pebble.Metrics, error) {
			if views := n.svc.Views(); views != nil {
				return views.Metrics()
			}
			return nil, service.ErrNoViews
		},
		Rebuild: func() (metrics.Rebuild, bool) {
			p, ok := n.svc.RebuildProgress()
			return metrics.Rebuild{Running: p.State == api.RebuildRunning, Applied: p.Applied, Target: p.Target}, ok
		},
		IntakePending: func(ctx context.Context) (uint64, error) { return n.intake.Pending(ctx) },
	})
}

// Metrics is the node's Prometheus registry.
func (n *Node) Metrics() *metrics.Registry { return n.metrics }

// Probe serves a node's metrics and health over HTTP: /metrics (the
// Prometheus text format), /healthz (200 while the process answers) and
// /readyz (200 while service.Service.Readiness finds nothing wrong, else 503
// with the reason).
type Probe struct {
	ln  net.Listener
	srv *http.Server
}

// Probe listens on listen (host:port; port 0 picks one) for the node's
// HTTP endpoints; /readyz fails while the read model is more than maxLag
// events behind the log. Serve them with Run.
func (n *Node) Probe(listen string, maxLag uint64) (*Probe, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", n.metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := n.svc.Readiness(ctx, maxLag); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return &Probe{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}, nil
}

// Addr is the address the probe listens on.
func (p *Probe) Addr() string { return p.ln.Addr().String() }

// Run serves until ctx is done, then shuts the server down, letting a
// scrape in progress finish for up to a second.
func (p *Probe) Run(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- p.srv.Serve(p.ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := p.srv.Shutdown(sctx)
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}
