package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// configWatch is what the last CheckConfig found wrong with the stream's
// configuration; nil while it is as crosstalk requires.
type configWatch struct {
	problem atomic.Pointer[error]
}

// ConfigProblem returns the error, wrapping ErrStreamMisconfigured, that the
// last CheckConfig found, or nil. While it is not nil, Append and AppendAll
// refuse every entry with it.
func (l *Log) ConfigProblem() error {
	if l.parts != nil {
		return l.eachProblem(func(p *Log) error { return p.ConfigProblem() })
	}
	if p := l.config.problem.Load(); p != nil {
		return *p
	}
	return nil
}

// CheckConfig reads the stream's configuration and checks it against what
// Open requires (checkStream) and what the appends need (running). Someone
// with stream-admin rights can edit a stream under a running service: a
// max-msgs limit silently deletes history, other subjects leave appends
// with no stream. The problem it returns is kept for ConfigProblem and
// logged at error when it appears or changes; a restored configuration is
// logged and clears it. An error reading the stream info is returned
// without changing what ConfigProblem says, except a stream that no longer
// exists, which is a problem.
func (l *Log) CheckConfig(ctx context.Context) error {
	if l.parts != nil {
		return l.eachProblem(func(p *Log) error { return p.CheckConfig(ctx) })
	}
	info, err := l.stream.Info(ctx)
	var problem error
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		problem = fmt.Errorf("%w: stream %s no longer exists", ErrStreamMisconfigured, l.spec.name)
	case err != nil:
		return fmt.Errorf("check stream %s: %w", l.spec.name, mapError(err))
	default:
		problem = checkRunning(info.Config, l.spec, l.direct != nil)
	}
	l.setConfigProblem(problem)
	return problem
}

// WatchConfig subscribes now to JetStream's advisories about the stream,
// so that an edit made after it returns is noticed at once, and returns
// the watch: it runs CheckConfig at once, then every interval and whenever
// an advisory says the stream was updated or deleted, until ctx is done,
// and unsubscribes. The caller must run it. The advisory closes the window
// in which appends still succeed after an edit (up to interval otherwise);
// the periodic check stays, for a connection whose permissions withhold
// the advisories and for an advisory lost to a reconnect.
func (l *Log) WatchConfig(interval time.Duration) (watch func(ctx context.Context)) {
	if l.parts != nil {
		return l.watchEach(interval)
	}
	changed := make(chan struct{}, 1)
	sub, err := l.js.Conn().Subscribe(advisoryPrefix+"*."+l.spec.name, func(m *nats.Msg) {
		if !configAdvisory(m.Subject) {
			return
		}
		select {
		case changed <- struct{}{}:
		default: // a check is already due
		}
	})
	if err != nil {
		l.logger.Debug("eventlog: no stream advisories; checking periodically only", slog.String("error", err.Error()))
	}
	return func(ctx context.Context) {
		if sub != nil {
			defer sub.Unsubscribe()
		}
		l.watchConfig(ctx, interval, changed)
	}
}

// watchConfig runs CheckConfig at once, then every interval and on each
// changed, until ctx is done.
func (l *Log) watchConfig(ctx context.Context, interval time.Duration, changed <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := l.CheckConfig(ctx); err != nil && !errors.Is(err, ErrStreamMisconfigured) && ctx.Err() == nil {
			l.logger.Warn("eventlog: cannot check the stream's configuration", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-changed:
		}
	}
}

// eachProblem joins what check finds on each stream of a partitioned Log.
func (l *Log) eachProblem(check func(*Log) error) error {
	var errs []error
	for _, p := range l.parts {
		errs = append(errs, check(p))
	}
	return errors.Join(errs...)
}

// watchEach is WatchConfig of a partitioned Log: a watch per stream, run
// together.
func (l *Log) watchEach(interval time.Duration) func(ctx context.Context) {
	watches := make([]func(context.Context), len(l.parts))
	for i, p := range l.parts {
		watches[i] = p.WatchConfig(interval)
	}
	return func(ctx context.Context) {
		var wg sync.WaitGroup
		for _, w := range watches {
			wg.Go(func() { w(ctx) })
		}
		wg.Wait()
	}
}

// advisoryPrefix starts the subjects of JetStream's advisories about a
// stream, published in the account that holds it: the kind, then the
// stream's name.
const advisoryPrefix = "$JS.EVENT.ADVISORY.STREAM."

// configAdvisory says whether an advisory's subject tells of a change of
// the stream's configuration (updated, deleted). The others (a leader
// elected, a quorum lost, a snapshot) do not: a check during an election
// can only find the stream unreachable.
func configAdvisory(subject string) bool {
	kind, _, _ := strings.Cut(strings.TrimPrefix(subject, advisoryPrefix), ".")
	return kind == "UPDATED" || kind == "DELETED"
}

// setConfigProblem stores problem and logs a change.
func (l *Log) setConfigProblem(problem error) {
	var next *error
	if problem != nil {
		next = &problem
	}
	prev := l.config.problem.Swap(next)
	switch {
	case problem != nil && (prev == nil || (*prev).Error() != problem.Error()):
		l.logger.Error("eventlog: the stream's configuration changed under the service; appends are refused until it is restored",
			slog.String("stream", l.spec.name), slog.String("problem", problem.Error()))
	case problem == nil && prev != nil:
		l.logger.Info("eventlog: the stream's configuration is restored; appends resume", slog.String("stream", l.spec.name))
	}
}

// checkRunning is checkStream plus what a running writer needs beyond what
// Open checks: a stream it can append to and read as it did when opened.
func checkRunning(cfg jetstream.StreamConfig, spec streamSpec, direct bool) error {
	problems := misconfigurations(cfg, spec)
	if cfg.Sealed {
		problems = append(problems, "the stream is sealed, so it refuses every append")
	}
	if cfg.NoAck {
		problems = append(problems, "no_ack is on, so appends are never acknowledged")
	}
	if direct && !cfg.AllowDirect {
		problems = append(problems, fmt.Sprintf("allow_direct is off, so aggregates cannot be loaded; "+
			"turn it on with nats stream edit %s --allow-direct", cfg.Name))
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: stream %s: %s", ErrStreamMisconfigured, cfg.Name, strings.Join(problems, "; "))
}
