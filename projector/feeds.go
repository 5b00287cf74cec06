package projector

import (
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Feeds receives the live notifications of the store (Options.Feeds,
// docs/feeds.md): package feed publishes them on core NATS.
type Feeds interface {
	// Publish delivers notes, in stream order, after the run that made
	// them committed; a note is for its Viewer's feed only. It runs on
	// Apply's goroutine (and the policy scheduler's, never at once): it
	// must not keep notes, whose memory the store reuses, nor call back
	// into the Store. An error is logged, not retried: feeds are at most
	// once.
	Publish(notes []Note) error
}

// Note is one notification and the account whose feed it is for.
type Note struct {
	Viewer events.Account
	api.Notification
}
