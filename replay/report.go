package replay

import (
	"fmt"
	"io"
	"time"

	"github.com/crosstalk-dev/crosstalk/audit"
)

// Report is a Result as 'crosstalk replay' prints it: with --json as this
// object, otherwise with WriteText.
type Report struct {
	Events          uint64    `json:"events"`
	Skipped         uint64    `json:"skipped"`
	LastSeq         uint64    `json:"last_seq"`
	DurationSeconds float64   `json:"duration_seconds"`
	EventsPerSecond float64   `json:"events_per_second"`
	ViewsChecksum   string    `json:"views_checksum"`
	ViewsEntries    uint64    `json:"views_entries"`
	History         audit.Sum `json:"history"`
	// Out is the directory the views were kept in; "" when they were
	// built in a temporary one.
	Out string `json:"out,omitempty"`
}

// Report is r as printed, with the views kept in out ("" for none).
func (r Result) Report(out string) Report {
	return Report{
		Events: r.Events, Skipped: r.Skipped, LastSeq: r.LastSeq,
		DurationSeconds: r.Duration.Seconds(), EventsPerSecond: r.EventsPerSecond(),
		ViewsChecksum: r.Checksum, ViewsEntries: r.Entries, History: r.History, Out: out,
	}
}

// WriteText writes the report for people, one "name: value" a line.
func (r Report) WriteText(w io.Writer) error {
	lines := []string{fmt.Sprintf("events: %d", r.Events)}
	if r.Skipped > 0 {
		lines = append(lines, fmt.Sprintf("skipped (after --until-time): %d", r.Skipped))
	}
	lines = append(lines,
		fmt.Sprintf("last seq: %d", r.LastSeq),
		fmt.Sprintf("duration: %s", time.Duration(r.DurationSeconds*float64(time.Second)).Round(time.Millisecond)),
		fmt.Sprintf("events/s: %.0f", r.EventsPerSecond),
		fmt.Sprintf("views checksum: %s", r.ViewsChecksum),
		fmt.Sprintf("views entries: %d", r.ViewsEntries),
		fmt.Sprintf("history sha256: %s", r.History.Hex))
	if r.Out != "" {
		lines = append(lines, "views: "+r.Out)
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}
