package soak

import (
	"context"
	"errors"
	"github.com/crosstalk-dev/crosstalk/admission"
	"log/slog"
	"os"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/service"
)

// OnNode starts a crosstalk node on an embedded nats-server and a Pebble
// store in a temporary directory, keeping cacheSize aggregates in memory,
// runs the soak against it (see Run), then stops the node and removes the
// directory. The node runs in this process, so the samples count its heap
// and goroutines.
func OnNode(ctx context.Context, opts Options, cacheSize int, logger *slog.Logger) (res Result, err error) {
	dir, err := os.MkdirTemp("", "crosstalk-soak-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	// The producers share one connection in development mode: unlimited,
	// so that the soak measures memory under its load, not refusals.
	none := admission.Limit{Rate: -1, Burst: -1, InFlight: -1}
	limits := admission.PrincipalLimits{Development: admission.KindLimits{Commands: none, Queries: none}}
	n, err := node.Start(ctx, node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: logger,
		Service: service.Options{CacheSize: cacheSize, Limits: limits}})
	if err != nil {
		return Result{}, err
	}
	stop, err := n.Background(ctx)
	if err != nil {
		return Result{}, err
	}
	defer func() { err = errors.Join(err, stop()) }()
	return Run(ctx, client.New(n.Conn()), opts)
}
