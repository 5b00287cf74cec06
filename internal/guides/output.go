package guides

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrOutputDiffers is an output block a line of which the step above did
// not print.
var ErrOutputDiffers = errors.New("output differs from the guide")

// What changes from run to run, replaced before lines are compared.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`), "<id>"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?( UTC)?`), "<time>"},
	{regexp.MustCompile(`\b[0-9a-zA-Z]{20,}\b`), "<token>"},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|us|ms|s|m|h)\b`), "<dur>"},
	{regexp.MustCompile(`\d+(\.\d+)?\s?(B|KiB|MiB|GiB|kB|MB|GB)\b`), "<size>"},
	{regexp.MustCompile(`\d{3,}`), "<n>"},
	{regexp.MustCompile(`\s+`), " "},
}

// Normalize is the comparison's rule for one line: ids (UUIDs, tokens of
// 20 or more letters and digits), times, durations, sizes and numbers of 3
// or more digits (ports, sequences, byte counts) become placeholders, runs
// of blanks become one space, and the ends are trimmed.
func Normalize(line string) string {
	for _, v := range volatile {
		line = v.re.ReplaceAllString(line, v.with)
	}
	return strings.TrimSpace(line)
}

// Compare checks a guide's output block against what the step printed:
// every line of want, normalized, must be a line of got, normalized, in
// the same order; got may have lines the guide leaves out, and want's
// blank lines and lines of only "…" or "..." are skipped.
func Compare(want, got string) error {
	gotLines := strings.Split(got, "\n")
	at := 0
	for _, w := range strings.Split(want, "\n") {
		nw := Normalize(w)
		if nw == "" || nw == "…" || nw == "..." {
			continue
		}
		found := false
		for ; at < len(gotLines); at++ {
			if Normalize(gotLines[at]) == nw {
				found, at = true, at+1
				break
			}
		}
		if !found {
			return fmt.Errorf("%w: %q is not printed (or not in this order)", ErrOutputDiffers, strings.TrimSpace(w))
		}
	}
	return nil
}
