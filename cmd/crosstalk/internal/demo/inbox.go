package demo

import (
	"context"
	"errors"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/internal/seed"
)

// othersReplies has messenger:bob subscribe to every reply of his app's
// account and to his app's backend's replies: NATS refuses both, since
// each principal may subscribe for replies only under its own inbox prefix
// (credentials.json's inbox_prefix), which his own requests use.
func (d *demo) othersReplies(ctx context.Context, _ *seed.Story) error {
	app, err := d.cfg.Lookup(bobApp)
	if err != nil {
		return err
	}
	for _, subject := range []string{"_INBOX.>", app.InboxPrefix + ".>"} {
		if err := d.subscribeRefused(ctx, bob, subject); err != nil {
			return err
		}
	}
	me, err := d.cfg.Lookup(bob)
	if err != nil {
		return err
	}
	d.ok("%s may subscribe for replies only under his own prefix %s.>, which his requests use: "+
		"no other principal's reply reaches him", bob, me.InboxPrefix)
	return nil
}

// subscribeRefused subscribes principal's connection to subject and
// expects the NATS server's permissions violation.
func (d *demo) subscribeRefused(ctx context.Context, principal, subject string) error {
	c := d.conns[principal]
	for len(c.errs) > 0 {
		<-c.errs
	}
	rctx, cancel := context.WithTimeout(ctx, refusalWait)
	defer cancel()
	sub, err := c.nc.SubscribeSync(subject)
	if err != nil {
		return refusal("%s subscribing to %s: %v", principal, subject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := c.nc.FlushWithContext(rctx); err != nil {
		return refusal("%s subscribing to %s: %v", principal, subject, err)
	}
	select {
	case err := <-c.errs:
		if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), subject) {
			return refusal("%s subscribing to %s: want a permissions violation, got %v", principal, subject, err)
		}
		d.ok("%s may not subscribe to %s: refused by NATS itself (%v)", principal, subject, err)
		return nil
	case <-rctx.Done():
		return refusal("%s subscribed to %s and NATS did not refuse it", principal, subject)
	}
}
