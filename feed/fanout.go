package feed

import (
	"errors"

	"github.com/crosstalk-dev/crosstalk/projector"
)

// Fanout is a projector.Feeds that hands each run's notes to each of its
// feeds in turn (the live Feed and the Durable one), the store's single
// Options.Feeds.
type Fanout []projector.Feeds

var _ projector.Feeds = Fanout(nil)

// Publish publishes notes on every feed, and returns their errors joined.
func (f Fanout) Publish(notes []projector.Note) error {
	var errs []error
	for _, feed := range f {
		errs = append(errs, feed.Publish(notes))
	}
	return errors.Join(errs...)
}
