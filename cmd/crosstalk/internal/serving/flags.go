package serving

import (
	"context"
	"errors"
	"fmt"
	"github.com/crosstalk-dev/crosstalk/clock"
	"io"
	"log/slog"
	"time"

	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/service"
)

// Flags are serve's flags: the node's options and what the command
// itself turns into them.
type Flags struct {
	Node                node.Options
	CacheSize           int
	AppendTimeout       time.Duration
	Limits              []string // --limit, admission.PrincipalLimits.Set
	Roles               string   // --roles, node.ParseRoles
	RunIntake, RunFeeds bool
	// DurableFeedsMaxAge is --durable-feeds-max-age: the durable feeds'
	// retention, 0 for none.
	DurableFeedsMaxAge time.Duration
	Debug              bool
	LogFormat          string
	Probe              ProbeFlags
}

// Serve starts a node with the flags' options and runs it, with the metrics
// and health endpoints if asked, until ctx ends; listenGiven says --listen
// was given (with --nats-config, the file's listen holds otherwise).
//
// Once the logger exists, an error that ends serve is also its last log
// line, in the log's format; under --log-format json the error returned is
// a LoggedError, which the caller need not print again as text.
func (sf *Flags) Serve(ctx context.Context, stderr io.Writer, listenGiven bool) error {
	if sf.AppendTimeout <= 0 {
		return fmt.Errorf("--append-timeout %s: must be positive", sf.AppendTimeout)
	}
	TuneGC()
	LimitMemory()
	level := slog.LevelInfo
	if sf.Debug {
		level = slog.LevelDebug
	}
	logger, err := NewFormattedLogger(stderr, level, sf.LogFormat)
	if err != nil {
		return err
	}
	err = sf.serve(ctx, logger, listenGiven)
	if err != nil && sf.LogFormat == LogJSON {
		logger.Error("serve stopped", slog.Any("err", err))
		return LoggedError{err}
	}
	return err
}

// LoggedError is an error serve has already written as a JSON log line.
type LoggedError struct{ error }

// Unwrap is the error itself.
func (e LoggedError) Unwrap() error { return e.error }

// serve is Serve once its logger exists.
func (sf *Flags) serve(ctx context.Context, logger *slog.Logger, listenGiven bool) error {
	var err error
	cfg := sf.Node
	if cfg.Roles, err = node.ParseRoles(sf.Roles); err != nil {
		return fmt.Errorf("--roles: %w", err)
	}
	if cfg.NodeID != "" { // node.Start's Validate refuses it too, naming the field rather than the flag
		if err := node.CheckNodeID(cfg.NodeID); err != nil {
			return fmt.Errorf("--node-id: %w", err)
		}
	}
	cfg.Logger = logger
	cfg.Service = service.Options{Clock: clock.Wall{}, CacheSize: sf.CacheSize, AppendTimeout: sf.AppendTimeout}
	for _, spec := range sf.Limits {
		if err := cfg.Service.Limits.Set(spec); err != nil {
			return fmt.Errorf("--limit: %w", err)
		}
	}
	cfg.DisableFeeds = !sf.RunFeeds
	if sf.DurableFeedsMaxAge < 0 {
		return fmt.Errorf("--durable-feeds-max-age %s: must be positive, or 0 for no durable feeds", sf.DurableFeedsMaxAge)
	}
	cfg.DurableFeedsMaxAge, cfg.DurableFeeds = sf.DurableFeedsMaxAge, sf.DurableFeedsMaxAge > 0
	if !sf.RunIntake {
		cfg.Roles = withoutIntake(cfg.Roles)
		logger.Warn("serve --intake=false is deprecated: every node may run the defaults, and one at a time decides the intake, by lease; this node runs without the intake role")
	}
	if cfg.NatsConfig != "" && !listenGiven {
		cfg.Listen = "" // the configuration file's
	}
	n, err := node.Start(ctx, cfg)
	if errors.Is(err, node.ErrNotLoopback) && cfg.NatsURL == "" {
		return fmt.Errorf("%w; give --nats-config to authenticate, or --insecure to listen there without", err)
	}
	if err != nil {
		return err
	}
	runErr := sf.Probe.Run(ctx, n, logger)
	logger.Info("shutting down")
	return errors.Join(runErr, n.Close())
}

// withoutIntake are roles (all when none) but the intake's.
func withoutIntake(roles node.Roles) node.Roles {
	if len(roles) == 0 {
		roles = node.AllRoles
	}
	var out node.Roles
	for _, r := range roles {
		if r != node.RoleIntake {
			out = append(out, r)
		}
	}
	return out
}
