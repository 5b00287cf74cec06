package audit

import (
	"fmt"
	"io"

	"github.com/crosstalk-dev/crosstalk/events"
)

// WriteText writes the report for people: the range walked, whether the
// views were checked (viewsNote says why not), the counts, and each break
// listed with its sequence, subject and kind.
func (r Report) WriteText(w io.Writer, viewsNote string) error {
	lines := []string{fmt.Sprintf("stream %s: seq 1..%d", events.StreamName, r.LastSeq)}
	if r.WithViews {
		lines = append(lines, fmt.Sprintf("views: checked up to their checkpoint, seq %d", r.ViewsCheckpoint))
	} else {
		lines = append(lines, fmt.Sprintf("views: not checked (%s)", viewsNote))
	}
	lines = append(lines, fmt.Sprintf("subjects: %d, events: %d, views checked: %d, breaks: %d",
		r.Subjects, r.Events, r.ViewsChecked, r.BreaksTotal))
	for _, b := range r.Breaks {
		subject := b.Subject
		if subject == "" {
			subject = "-"
		}
		lines = append(lines, fmt.Sprintf("  seq %d  %s  %s: %s", b.Seq, subject, b.Kind, b.Detail))
	}
	if more := r.BreaksTotal - uint64(len(r.Breaks)); more > 0 {
		lines = append(lines, fmt.Sprintf("  ... and %d more", more))
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}
