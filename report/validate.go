package report

import (
	"errors"
	"io/fs"
	"os"

	"github.com/crosstalk-dev/crosstalk/internal/optcheck"
)

// ErrInvalidOptions is wrapped by each violation Validate reports; it is
// the same error as every crosstalk package's ErrInvalidOptions.
var ErrInvalidOptions = optcheck.ErrInvalid

// Validate reports every field of o that breaks its rule, joined, each
// wrapping ErrInvalidOptions: a Dir that is given must be absent or empty,
// since the views as of the instant are built into it from nothing (a
// store already there would mix two histories). SeenBy refuses what it
// refuses.
func (o AsOfOptions) Validate() error {
	v := optcheck.New("report.AsOfOptions")
	if o.Dir != "" {
		entries, err := os.ReadDir(o.Dir)
		switch {
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			v.AddErr("Dir", err)
		case len(entries) > 0:
			v.Add("Dir", "holds files: give an empty or absent directory for the views as of the instant")
		}
	}
	return v.Err()
}
