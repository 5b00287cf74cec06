package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/progress"
	"github.com/crosstalk-dev/crosstalk/node"
)

// RebuildOptions are the flags of 'crosstalk views rebuild'.
type RebuildOptions struct {
	Interval time.Duration // how often to ask for the status
	Timeout  time.Duration // how long to wait for the rebuild; 0: no limit
	Node     string        // the node to rebuild (its id); empty: whichever answers
}

// RebuildViews starts (or joins) a rebuild of the read model and follows
// it until it ends.
func RebuildViews(ctx context.Context, url string, creds node.Credentials, opts RebuildOptions, stdout, stderr io.Writer) error {
	if opts.Interval <= 0 {
		return fmt.Errorf("--interval must be positive, got %s", opts.Interval)
	}
	s, err := connect(ctx, url, "crosstalk views", creds)
	if err != nil {
		return err
	}
	defer s.close()
	rctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	c := client.New(s.nc)
	subject, rebuild, status := api.AdminViewsRebuild, c.RebuildViews, queryStatus(c)
	if opts.Node != "" {
		subject, rebuild, status = api.AdminNodeViewsRebuild(opts.Node),
			func(ctx context.Context) (api.RebuildReply, error) { return c.RebuildViewsOn(ctx, opts.Node) },
			func(ctx context.Context) (api.Status, error) { return c.NodeStatus(ctx, opts.Node) }
	}
	r, err := rebuild(rctx)
	if err != nil {
		return NoNode(opts.Node, fmt.Errorf("request %s: %w", subject, s.refused(err)))
	}
	verb := "started"
	if r.Joined {
		verb = "joined the running"
	}
	fmt.Fprintf(stderr, "%s rebuild of the read model: %d events to apply, then what is appended meanwhile\n",
		verb, r.Progress.Target)
	if opts.Node == "" && r.Node != "" {
		// Another query node may answer crosstalk.query.status, and it
		// has no rebuild: follow the node that rebuilds.
		status = func(ctx context.Context) (api.Status, error) { return c.NodeStatus(ctx, r.Node) }
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	p, err := watchRebuild(ctx, status, r.Progress.StartedAt, opts.Interval, progress.NewRebuild(stderr))
	if err != nil {
		return err
	}
	if p.State == api.RebuildFailed {
		return fmt.Errorf("the rebuild failed: %s", p.Error)
	}
	took := p.FinishedAt.Sub(p.StartedAt).Round(time.Millisecond)
	fmt.Fprintf(stdout, "rebuilt the read model: %d events applied in %s; it answers now\n", p.Applied, took)
	return nil
}

// watchRebuild polls the status until the rebuild that started at started
// has ended, showing its progress, and returns how it ended.
func watchRebuild(ctx context.Context, status statusFunc, started time.Time, every time.Duration,
	bar *progress.Events) (api.RebuildProgress, error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		st, err := status(qctx)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			// One unanswered poll (a request timing out under load) is no
			// reason to stop watching.
			fmt.Fprintf(bar.Writer(), "status: %v\n", err)
		case err == nil && st.Rebuild == nil:
			return api.RebuildProgress{}, errors.New("the service reports no rebuild: it restarted, and a restart " +
				"discards a rebuild in progress; run the command again")
		case err == nil:
			p := *st.Rebuild
			if !p.StartedAt.Equal(started) {
				return p, errors.New("another rebuild replaced the one this command watched; its outcome is unknown")
			}
			total := max(p.Target, p.Applied)
			if p.State == api.RebuildRunning {
				// A bar that reaches its max completes and shows nothing
				// more; a running rebuild also applies what is appended
				// meanwhile, past its target.
				total = max(total, p.Applied+1)
			}
			bar.Show(p.Applied, total)
			if p.State != api.RebuildRunning {
				bar.FinishIn(p.State == api.RebuildDone, p.FinishedAt.Sub(p.StartedAt))
				return p, nil
			}
		}
		select {
		case <-ctx.Done():
			bar.Finish(false)
			if errors.Is(ctx.Err(), context.Canceled) {
				return api.RebuildProgress{}, errors.New("stopped watching; the rebuild goes on (see crosstalk.query.status)")
			}
			return api.RebuildProgress{}, fmt.Errorf("the rebuild did not end in time: %w", ctx.Err())
		case <-t.C:
		}
	}
}
