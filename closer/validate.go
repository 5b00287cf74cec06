package closer

import "github.com/crosstalk-dev/crosstalk/internal/optcheck"

// ErrInvalidOptions is wrapped by each violation Options.Validate reports;
// it is the same error as every crosstalk package's ErrInvalidOptions.
var ErrInvalidOptions = optcheck.ErrInvalid

// Validate reports every field of o that breaks its rule, joined, each
// wrapping ErrInvalidOptions: a zero field means its documented default,
// a negative count or duration is refused.
func (o Options) Validate() error {
	v := optcheck.New("closer.Options")
	optcheck.NotNegative(v, "CheckInterval", o.CheckInterval)
	optcheck.NotNegative(v, "CloseGrace", o.CloseGrace)
	optcheck.NotNegative(v, "CloseConcurrency", o.CloseConcurrency)
	optcheck.NotNegative(v, "CloseRun", o.CloseRun)
	optcheck.NotNegative(v, "RetentionInterval", o.RetentionInterval)
	optcheck.NotNegative(v, "RetentionPage", o.RetentionPage)
	return v.Err()
}
