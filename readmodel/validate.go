package readmodel

import "github.com/crosstalk-dev/crosstalk/internal/optcheck"

// ErrInvalidOptions is wrapped by each violation Options.Validate reports;
// it is the same error as every crosstalk package's ErrInvalidOptions.
var ErrInvalidOptions = optcheck.ErrInvalid

// Validate reports every field of o that breaks its rule, joined, each
// wrapping ErrInvalidOptions: a negative duration is refused.
func (o Options) Validate() error {
	v := optcheck.New("readmodel.Options")
	optcheck.NotNegative(v, "ReadWait", o.ReadWait)
	return v.Err()
}
