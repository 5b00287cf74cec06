package serving

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/crosstalk-dev/crosstalk/node"
)

// Log formats of --log-format.
const (
	LogText = "text"
	LogJSON = "json"
)

// NewFormattedLogger logs to stderr in format, text or json.
func NewFormattedLogger(stderr io.Writer, level slog.Level, format string) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case LogText:
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	case LogJSON:
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// ProbeFlags are serve's --metrics and --ready-max-lag.
type ProbeFlags struct {
	Listen string
	MaxLag uint64
}

// Run runs n until ctx is done, with its HTTP probe beside it when
// --metrics is given; the probe stops when the node does.
func (f ProbeFlags) Run(ctx context.Context, n *node.Node, logger *slog.Logger) error {
	if f.Listen == "" {
		return n.Run(ctx)
	}
	p, err := n.Probe(f.Listen, f.MaxLag)
	if err != nil {
		return err
	}
	logger.Info("metrics listening", slog.String("url", "http://"+p.Addr()+"/metrics"))
	g, gctx := errgroup.WithContext(ctx)
	probeCtx, stopProbe := context.WithCancel(context.WithoutCancel(ctx))
	g.Go(func() error {
		defer stopProbe()
		return n.Run(gctx)
	})
	g.Go(func() error {
		if err := p.Run(probeCtx); err != nil {
			return fmt.Errorf("metrics server: %w", err)
		}
		return nil
	})
	return g.Wait()
}
