// Package feed publishes the read model's notifications (docs/feeds.md):
// the live feeds on core NATS (Feed), each projector.Note as one small JSON
// message on api.FeedSubject of its viewer, at most once, in the order the
// projector made them; and the durable feeds for app backends (Durable),
// the same notes without their text kept in a JetStream stream per app.
package feed

import (
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// Publisher sends one message with core NATS; *nats.Conn implements it.
type Publisher interface {
	Publish(subject string, data []byte) error
}

// Feed is a projector.Feeds that publishes through a Publisher. It is
// used by one goroutine at a time (the projector serialises its calls).
type Feed struct {
	pub      Publisher
	buf      []byte
	subjects subjects // recent viewers' subjects, built once
}

// maxSubjects bounds Feed.subjects: past it the map starts again, so that
// a long-running node does not keep a subject per account it ever served.
const maxSubjects = 100_000

// New returns a Feed that publishes with pub.
func New(pub Publisher) *Feed { return &Feed{pub: pub, subjects: newSubjects(api.FeedSubject)} }

var _ projector.Feeds = (*Feed)(nil)

// Publish encodes and publishes each note; it returns the first error and
// goes on with the rest.
func (f *Feed) Publish(notes []projector.Note) error {
	var first error
	for i := range notes {
		n := &notes[i]
		f.buf = appendNotification(f.buf[:0], &n.Notification)
		if err := f.pub.Publish(f.subject(n.Viewer), f.buf); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// subject is viewer's feed subject.
func (f *Feed) subject(viewer events.Account) string { return f.subjects.of(viewer) }

// subjects are the subjects of recent viewers, each built once by
// subject: past maxSubjects the map starts again.
type subjects struct {
	m       map[events.Account]string
	subject func(account string) string
}

// newSubjects returns an empty cache of subject's subjects.
func newSubjects(subject func(account string) string) subjects {
	return subjects{m: map[events.Account]string{}, subject: subject}
}

// of returns viewer's subject.
func (c subjects) of(viewer events.Account) string {
	s, ok := c.m[viewer]
	if !ok {
		if len(c.m) >= maxSubjects {
			clear(c.m)
		}
		s = c.subject(string(viewer))
		c.m[viewer] = s
	}
	return s
}
