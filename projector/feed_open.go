package projector

import (
	"context"
	"log/slog"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector/views"
)

// openNotes opens the sealed texts and reactions of a committed run's
// notes (views.Content, as notify made them) before they are published,
// each value once however many participants' notes carry it. A value that
// does not open leaves its note without it, marked erased.
func (s *Store) openNotes(notes []Note) {
	type opened struct {
		text string
		x    *api.Erasure
	}
	done := map[string]opened{}
	open := func(n *api.Notification, v *string) {
		if !views.IsSealedContent(*v) {
			return
		}
		o, ok := done[*v]
		if !ok {
			text, x, err := views.OpenContent(context.Background(), s.opts.Opener, n.ConversationID, events.Account(n.Account), *v)
			if err != nil {
				s.log.Warn("projector: open a notification", slog.Uint64("seq", n.Seq), slog.Any("err", err))
				x = &api.Erasure{Reason: api.ErasedKey}
			}
			o = opened{text, x}
			done[*v] = o
		}
		*v, n.Erased = o.text, o.x
	}
	for i := range notes {
		n := &notes[i].Notification
		open(n, &n.Text)
		open(n, &n.Reaction)
	}
}
