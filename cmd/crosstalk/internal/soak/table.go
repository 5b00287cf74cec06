package soak

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints the samples as a table, then the totals and the verdict.
func (res Result) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "AT\tCOMMANDS\tLIVE HEAP (MiB)\tHEAP IN USE (MiB)\tGOROUTINES\t\n")
	for _, s := range res.Samples {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%d\t\n", s.At, s.Commands, float64(s.HeapLive)/(1<<20), float64(s.HeapInuse)/(1<<20), s.Goroutines)
	}
	tw.Flush()
	fmt.Fprintf(w, "commands: %d, errors: %d, flat: %v\n", res.Commands, res.Errors, res.Flat)
}
