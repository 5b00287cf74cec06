package replay

import "github.com/crosstalk-dev/crosstalk/internal/optcheck"

// ErrInvalidOptions is wrapped by each violation Options.Validate reports;
// it is the same error as every crosstalk package's ErrInvalidOptions.
var ErrInvalidOptions = optcheck.ErrInvalid

// Validate reports every field of o that breaks its rule, joined, each
// wrapping ErrInvalidOptions: a zero field means its documented default,
// a negative BatchSize is refused. Run refuses invalid options.
func (o Options) Validate() error {
	v := optcheck.New("replay.Options")
	optcheck.NotNegative(v, "BatchSize", o.BatchSize)
	return v.Err()
}
