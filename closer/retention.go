package closer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// ErrNoProgress stops a retention sweep whose views offer again what it
// expired already: their index did not take its content.expired out.
var ErrNoProgress = errors.New("closer: the views offer again what the retention sweep expired")

// The retention sweep (docs/erasure.md, "Retention"): while the policy in
// force has content_retention_days N > 0, the closer erases the content of
// every message sent more than N days ago, at most every
// Options.RetentionInterval. For each conversation the views list as due
// (projector.Due), it punctures the leaves [0, Through] of every sender's
// scope, then appends content.expired through the command path. Keys come
// first: a crash between the two leaves the keys punctured, and the next
// sweep, finding the messages still due, punctures again (a no-op) and
// appends the event, which the aggregate records once, by its reach.

// sweepRetention runs a retention sweep if one is due: a closer with Keys,
// holding the lease, under a policy with a retention rule, the interval
// passed since the last sweep began.
func (c *Closer) sweepRetention(ctx context.Context) error {
	now := c.opts.Clock.Now()
	p := c.policies.At(now)
	if c.opts.Keys == nil || p == nil || p.ContentRetentionDays <= 0 {
		return nil
	}
	if since := now.Sub(c.swept); !c.swept.IsZero() && since >= 0 && since < c.opts.RetentionInterval {
		return nil
	}
	if _, held := c.opts.Holding(); !held {
		return nil
	}
	c.swept = now
	cutoff := now.Add(-time.Duration(p.ContentRetentionDays) * 24 * time.Hour)
	n, err := c.expireBefore(ctx, p, cutoff)
	level := slog.LevelDebug // a sweep that found nothing, every minute
	if n > 0 {
		level = slog.LevelInfo
	}
	c.opts.Logger.Log(ctx, level, "retention sweep", slog.Uint64("policy_version", p.Version),
		slog.Time("before", cutoff), slog.Int("expired", n))
	return err
}

// expireBefore expires, a page of Options.RetentionPage conversations at a
// time, the content sent before cutoff, and returns for how many
// conversations it appended content.expired. The views catch up before
// each page, so that a page does not offer what the last one expired.
func (c *Closer) expireBefore(ctx context.Context, p *aggregate.Policy, cutoff time.Time) (int, error) {
	done := map[string]uint32{}
	expired := 0
	for {
		if err := c.catchUpViews(ctx); err != nil {
			return expired, err
		}
		page, err := c.views().DueForRetention(cutoff, c.opts.RetentionPage)
		if err != nil || len(page) == 0 {
			return expired, err
		}
		for _, d := range page {
			if through, ok := done[d.ConversationID]; ok && d.Through <= through {
				return expired, fmt.Errorf("%w: conversation %s through %d", ErrNoProgress, d.ConversationID, d.Through)
			}
			if err := c.fence(true); err != nil {
				return expired, err
			}
			appended, err := c.expireOne(ctx, d, p, cutoff)
			if err != nil {
				return expired, err
			}
			done[d.ConversationID] = d.Through
			if appended {
				expired++
			}
		}
	}
}

// expireOne punctures what d's senders sealed up to d.Through, then
// appends content.expired. A conversation that expired as far already
// (ErrNotAffected: an earlier sweep appended, and the views had not
// applied it) is not an error.
func (c *Closer) expireOne(ctx context.Context, d projector.Due, p *aggregate.Policy, cutoff time.Time) (bool, error) {
	for _, sender := range d.Senders {
		if err := c.opts.Keys.Puncture(ctx, sender, d.ConversationID, 0, d.Through); err != nil {
			return false, fmt.Errorf("puncture %s in %s: %w", sender, d.ConversationID, err)
		}
	}
	through := strconv.FormatUint(uint64(d.Through), 10) // the id: a repeat is the same command
	id := "retention/" + strconv.FormatUint(p.Version, 10) + "/" + d.ConversationID + "/" + through
	cmd := aggregate.ExpireContent{CommandID: id,
		Through: d.Through, Before: cutoff, PolicyVersion: p.Version, Principal: c.opts.Principal}
	appended, err := c.commands.Expire(ctx, d.ConversationID, cmd, cmd.CommandID)
	switch {
	case err == nil:
		return appended, nil
	case errors.Is(err, aggregate.ErrNotAffected):
		return false, nil
	}
	return false, fmt.Errorf("expire %s through %d: %w", events.ConversationSubject(d.ConversationID), d.Through, err)
}
