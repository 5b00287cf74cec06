package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/internal/broker"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

// nodeConfig says where a crosstalk node keeps its data and finds NATS.
type nodeConfig struct {
	DataDir    string // Pebble under DataDir/views, embedded JetStream under DataDir/jetstream
	Listen     string // embedded server client address
	NatsURL    string // external NATS; empty means embedded
	SyncAlways bool
	Logger     *slog.Logger
	Service    service.Options
}

// node is one running crosstalk: broker (when embedded), connection, log,
// read model and service.
type node struct {
	srv        *server.Server
	nc         *nats.Conn
	log        *eventlog.Log
	store      *projector.Store
	svc        *service.Service
	rejections *eventlog.Refusals
	// closed is closed by the NATS client once a drain has finished.
	closed chan struct{}
}

func startNode(ctx context.Context, cfg nodeConfig) (*node, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	n := &node{}
	if err := n.connect(cfg); err != nil {
		n.close()
		return nil, err
	}
	if err := n.open(ctx, cfg); err != nil {
		n.close()
		return nil, err
	}
	cfg.Service.Logger = cfg.Logger
	cfg.Service.Rejections = n.rejections
	n.svc = service.New(n.nc, n.log, n.store, cfg.Service)
	return n, nil
}

func (n *node) connect(cfg nodeConfig) error {
	url := cfg.NatsURL
	if url == "" {
		srv, err := broker.Start(broker.Options{Listen: cfg.Listen, Dir: cfg.DataDir, SyncAlways: cfg.SyncAlways})
		if err != nil {
			return err
		}
		n.srv = srv
		url = srv.ClientURL()
		cfg.Logger.Info("embedded nats-server listening", slog.String("url", url),
			slog.String("jetstream_dir", filepath.Join(cfg.DataDir, "jetstream")))
	}
	n.closed = make(chan struct{})
	nc, err := nats.Connect(url, nats.Name("crosstalk"), nats.MaxReconnects(-1),
		nats.ClosedHandler(func(*nats.Conn) { close(n.closed) }))
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	n.nc = nc
	return nil
}

func (n *node) open(ctx context.Context, cfg nodeConfig) error {
	js, err := jetstream.New(n.nc)
	if err != nil {
		return err
	}
	if n.log, err = eventlog.Open(ctx, js, eventlog.Options{Logger: cfg.Logger}); err != nil {
		return err
	}
	audit, err := eventlog.OpenRefusals(ctx, js, eventlog.RefusalsOptions{Logger: cfg.Logger})
	if err != nil {
		return err
	}
	n.rejections = audit
	n.store, err = projector.Open(projector.Options{
		Dir: filepath.Join(cfg.DataDir, "views"), Logger: cfg.Logger, SyncEveryBatch: cfg.SyncAlways,
	})
	return err
}

// run serves until ctx is done.
func (n *node) run(ctx context.Context) error { return n.svc.Run(ctx) }

// close drains the connection, closes Pebble and stops the broker, in that
// order, so nothing acknowledged is left unflushed.
func (n *node) close() error {
	var errs []error
	if n.nc != nil {
		if err := n.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, err)
		}
		select {
		case <-n.closed:
		case <-time.After(10 * time.Second):
			n.nc.Close()
		}
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
	}
	return errors.Join(errs...)
}

// background runs the node until the returned stop is called, once its
// endpoints answer. stop cancels the run, waits for it, closes the node and
// returns every error. If the service fails before it is ready, background
// closes the node and returns the failure.
func (n *node) background(ctx context.Context) (stop func() error, err error) {
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.run(runCtx) }()
	select {
	case <-n.svc.Ready():
	case err := <-done:
		cancel()
		return nil, errors.Join(fmt.Errorf("service stopped before it was ready: %w", err), n.close())
	}
	return func() error {
		cancel()
		return errors.Join(<-done, n.close())
	}, nil
}
