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
	// Streams is, of a partitioned log, each stream's last applied
	// sequence and history sum, in stream order; last_seq is then zero, as
	// no one sequence names the whole history, and history is the sum of
	// the partitioned log (audit checksum's, docs/audit.md).
	Streams []StreamReport `json:"streams,omitempty"`
	// Out is the directory the views were kept in; "" when they were
	// built in a temporary one.
	Out string `json:"out,omitempty"`
}

// StreamReport is what a replay applied of one stream of a partitioned log.
type StreamReport struct {
	Name    string    `json:"name"`
	LastSeq uint64    `json:"last_seq"`
	History audit.Sum `json:"history"`
}

// Report is r as printed, with the views kept in out ("" for none).
func (r Result) Report(out string) Report {
	return Report{
		Events: r.Events, Skipped: r.Skipped, LastSeq: r.LastSeq,
		DurationSeconds: r.Duration.Seconds(), EventsPerSecond: r.EventsPerSecond(),
		ViewsChecksum: r.Checksum, ViewsEntries: r.Entries, History: r.History, Out: out,
		Streams: r.streamReports(),
	}
}

// streamSums are r's streams as audit.CombineSums sums them.
func (r Result) streamSums() []audit.StreamSum {
	var out []audit.StreamSum
	for _, s := range r.streamReports() {
		out = append(out, audit.StreamSum{Stream: s.Name, Hex: s.History.Hex, Events: s.History.Events, UntilSeq: s.History.UntilSeq})
	}
	return out
}

// streamReports are r's streams, nil of one stream.
func (r Result) streamReports() []StreamReport {
	var out []StreamReport
	for i, h := range r.Histories {
		name := fmt.Sprintf("stream %d", i)
		if i < len(r.StreamNames) {
			name = r.StreamNames[i]
		}
		out = append(out, StreamReport{Name: name, LastSeq: r.LastSeqs[i], History: h})
	}
	return out
}

// WriteText writes the report for people, one "name: value" a line.
func (r Report) WriteText(w io.Writer) error {
	lines := []string{fmt.Sprintf("events: %d", r.Events)}
	if r.Skipped > 0 {
		lines = append(lines, fmt.Sprintf("skipped (after --until-time): %d", r.Skipped))
	}
	if r.Streams == nil {
		lines = append(lines, fmt.Sprintf("last seq: %d", r.LastSeq))
	}
	lines = append(lines,
		fmt.Sprintf("duration: %s", time.Duration(r.DurationSeconds*float64(time.Second)).Round(time.Millisecond)),
		fmt.Sprintf("events/s: %.0f", r.EventsPerSecond),
		fmt.Sprintf("views checksum: %s", r.ViewsChecksum),
		fmt.Sprintf("views entries: %d", r.ViewsEntries))
	lines = append(lines, fmt.Sprintf("history sha256: %s", r.History.Hex))
	for _, s := range r.Streams {
		lines = append(lines, fmt.Sprintf("%s: last seq %d, %d events, history sha256 %s", s.Name, s.LastSeq, s.History.Events, s.History.Hex))
	}
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
