package admin

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/progress"
	"github.com/crosstalk-dev/crosstalk/policybook"
)

// watchPolicy polls crosstalk.query.policy every opts.Interval until the
// report is settled (policybook.Settled), then writes it to stdout. The
// closer's progress goes to stderr. Cancelling ctx (SIGINT) ends the watch
// with nil; opts.Timeout, if set, ends it with an error. A failed first query
// is returned; later ones (the service restarting, say) are reported and
// retried.
func watchPolicy(ctx context.Context, c *client.Client, opts PolicyOptions, stdout, stderr io.Writer) error {
	wctx, cancel := watchContext(ctx, opts.Timeout)
	defer cancel()
	progress := newPolicyProgress(stderr)
	defer progress.finish()
	tick := time.NewTicker(opts.Interval)
	defer tick.Stop()
	for answered := false; ; {
		rep, err := queryPolicyReport(wctx, c)
		switch {
		case wctx.Err() != nil:
			return watchEnded(ctx, wctx)
		case err != nil && !answered:
			return err
		case err != nil:
			fmt.Fprintf(stderr, "query policy: %v; retrying\n", err)
		case policybook.Settled(rep):
			progress.done(rep)
			return writePolicyReport(stdout, rep, opts.JSON)
		default:
			answered = true
			progress.show(rep)
		}
		select {
		case <-wctx.Done():
			return watchEnded(ctx, wctx)
		case <-tick.C:
		}
	}
}

func watchContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, timeout, fmt.Errorf(
		"policy not settled after %s: the version in force is not applied yet or a version is still scheduled; "+
			"see 'crosstalk policy status'", timeout))
}

// watchEnded is nil when the caller cancelled (SIGINT), else the timeout.
func watchEnded(ctx, wctx context.Context) error {
	if ctx.Err() != nil {
		return nil
	}
	return context.Cause(wctx)
}

func inForce(rep api.PolicyReport) (api.PolicyStatus, bool) {
	for _, v := range rep.Versions {
		if v.InForce {
			return v, true
		}
	}
	return api.PolicyStatus{}, false
}

// nextScheduled returns the earliest version not yet effective.
func nextScheduled(rep api.PolicyReport) (api.PolicyStatus, bool) {
	var next api.PolicyStatus
	found := false
	for _, v := range rep.Versions {
		if !v.Effective && (!found || v.EffectiveAt.Before(next.EffectiveAt)) {
			next, found = v, true
		}
	}
	return next, found
}

// policyProgress shows the watch on w: the closer's closed/affected for the
// version in force, as a bar when w is a terminal and as plain lines
// otherwise, and a note when a version is scheduled.
type policyProgress struct {
	w         io.Writer
	terminal  bool
	bar       *progressbar.ProgressBar
	version   uint64 // the version being closed, 0 for none
	closed    int    // last shown
	affected  int    // last shown
	announced uint64 // the scheduled version last announced
}

func newPolicyProgress(w io.Writer) *policyProgress {
	return &policyProgress{w: w, terminal: progress.IsTerminal(w)}
}

// show reports one answer that is not settled: the closing of the version
// in force, or, once that is applied, the next scheduled version.
func (p *policyProgress) show(rep api.PolicyReport) {
	if v, ok := inForce(rep); ok && !v.Applied {
		p.update(v)
		return
	}
	p.done(rep)
	if v, ok := nextScheduled(rep); ok && v.Version != p.announced {
		p.announced = v.Version
		writePolicyTable(p.w, rep)
		fmt.Fprintf(p.w, "v%d takes effect at %s; watching\n", v.Version, v.EffectiveAt.Format(time.RFC3339))
	}
}

// done shows the final counts of the version being closed, if any, and
// ends the bar.
func (p *policyProgress) done(rep api.PolicyReport) {
	if v, ok := inForce(rep); ok && v.Version == p.version {
		p.update(v)
	}
	p.finish()
}

// update shows v's closed/affected if they changed. The affected total grows
// while the closer scans, so the bar's max follows it.
func (p *policyProgress) update(v api.PolicyStatus) {
	if v.Version != p.version {
		p.finish()
		p.version, p.closed, p.affected = v.Version, -1, -1
	}
	if v.Closed == p.closed && v.Affected == p.affected {
		return
	}
	p.closed, p.affected = v.Closed, v.Affected
	if !p.terminal {
		fmt.Fprintf(p.w, "policy v%d: closed %d/%d\n", v.Version, v.Closed, v.Affected)
		return
	}
	if v.Affected == 0 {
		return // nothing found yet: an empty bar would say nothing
	}
	if p.bar == nil {
		p.bar = newClosingBar(p.w, v.Version, v.Affected)
	}
	if p.bar.GetMax() != v.Affected {
		p.bar.ChangeMax(v.Affected)
	}
	_ = p.bar.Set(v.Closed)
}

// finish ends the bar, leaving it on screen as last drawn.
func (p *policyProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Exit()
		p.bar = nil
	}
	p.version = 0
}

func newClosingBar(w io.Writer, version uint64, affected int) *progressbar.ProgressBar {
	return progressbar.NewOptions(affected,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(fmt.Sprintf("policy v%d: closing", version)),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("conv"),
		progressbar.OptionFullWidth(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}
