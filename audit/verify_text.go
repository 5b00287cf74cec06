package audit

import (
	"fmt"
	"io"

	"github.com/crosstalk-dev/crosstalk/events"
)

// WriteText writes the report for people: the range walked, whether the
// views were checked (viewsNote says why not), whether signatures were, the
// counts, and each break listed with its sequence, subject and kind.
func (r Report) WriteText(w io.Writer, viewsNote string) error {
	lines := []string{fmt.Sprintf("stream %s: seq 1..%d", events.StreamName, r.LastSeq)}
	if len(r.Streams) > 0 {
		lines = r.streamLines()
	}
	if r.WithViews && len(r.Streams) > 0 {
		lines = append(lines, "views: checked up to their checkpoint of each stream")
	} else if r.WithViews {
		lines = append(lines, fmt.Sprintf("views: checked up to their checkpoint, seq %d", r.ViewsCheckpoint))
	} else {
		lines = append(lines, fmt.Sprintf("views: not checked (%s)", viewsNote))
	}
	lines = append(lines, r.Signatures.text())
	lines = append(lines, fmt.Sprintf("subjects: %d, events: %d, views checked: %d, breaks: %d",
		r.Subjects, r.Events, r.ViewsChecked, r.BreaksTotal))
	for _, f := range r.Findings {
		lines = append(lines, "finding: "+f)
	}
	for _, b := range r.Breaks {
		subject := b.Subject
		if subject == "" {
			subject = "-"
		}
		where := fmt.Sprintf("seq %d", b.Seq)
		if b.Stream != "" {
			where = b.Stream + " " + where
		}
		lines = append(lines, fmt.Sprintf("  %s  %s  %s: %s", where, subject, b.Kind, b.Detail))
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

// streamLines are a partitioned log's lines about each stream.
func (r Report) streamLines() []string {
	lines := make([]string, len(r.Streams))
	for i, s := range r.Streams {
		lines[i] = fmt.Sprintf("stream %s: seq 1..%d, views checkpoint %d, events: %d, breaks: %d",
			s.Stream, s.LastSeq, s.ViewsCheckpoint, s.Events, s.BreaksTotal)
	}
	return lines
}

// text is the report's line about signatures.
func (s SignatureReport) text() string {
	if !s.Checked {
		return "signatures: not checked (give the service's public key: --public-key FILE)"
	}
	line := fmt.Sprintf("signatures: %d verified", s.Verified)
	for _, id := range s.Keys {
		line += fmt.Sprintf(", %d by key %s", s.ByKey[id], id)
	}
	switch {
	case s.RequiredFrom == 0 && s.Unsigned > 0:
		line += fmt.Sprintf("; no event is signed: %d unsigned", s.Unsigned)
	case s.RequiredFrom == 0:
		line += "; no event is signed"
	case s.Unsigned > 0:
		line += fmt.Sprintf("; required from seq %d, %d unsigned before it", s.RequiredFrom, s.Unsigned)
	default:
		line += fmt.Sprintf("; required from seq %d", s.RequiredFrom)
	}
	return line
}
