package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
)

// watchPoll is how often the demo looks for the subscriber it waits for.
const watchPoll = 50 * time.Millisecond

// watch prints the stock nats CLI's command that subscribes to account's
// live feed as that account's end user, then waits until something
// subscribes to the feed: the story runs in well under a second, and a
// subscriber that came later would see none of it.
func (d *demo) watch(ctx context.Context, account string) error {
	cr, err := d.cfg.Lookup(account)
	if err != nil {
		return fmt.Errorf("--watch %s: %w; the demo's end users are %v", account, err, sampleUsers())
	}
	subject := api.FeedSubject(account)
	fmt.Fprintf(d.out, "watch %s's live feed with the nats CLI; the story starts once it subscribes:\n", account)
	fmt.Fprintf(d.out, "  nats sub '%s' -s %s --user=%s --password=%s\n", subject, d.node.Conn().ConnectedUrl(), cr.User, cr.Password)
	t := time.NewTicker(watchPoll)
	defer t.Stop()
	for {
		ok, err := d.node.Interest(subject)
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// sampleUsers are the end users of the demo's identity configuration.
func sampleUsers() []string {
	var users []string
	for _, app := range seed.Apps {
		if h, ok := seed.SampleUsers[app]; ok {
			users = append(users, app+":"+h)
		}
	}
	return users
}
