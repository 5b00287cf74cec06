package intake

import "github.com/crosstalk-dev/crosstalk/internal/optcheck"

// ErrInvalidOptions is wrapped by each violation Options.Validate reports;
// it is the same error as every crosstalk package's ErrInvalidOptions.
var ErrInvalidOptions = optcheck.ErrInvalid

// Validate reports every field of o that breaks its rule, joined, each
// wrapping ErrInvalidOptions: a zero field means its documented default, a
// negative count, size or duration is refused, and so is an app that is
// no valid app name (wrapping ErrAppName too). Open refuses invalid
// options.
func (o Options) Validate() error {
	v := optcheck.New("intake.Options")
	optcheck.NotNegative(v, "Window", o.Window)
	optcheck.NotNegative(v, "Batch", o.Batch)
	optcheck.NotNegative(v, "Workers", o.Workers)
	optcheck.NotNegative(v, "AppLimit", o.AppLimit)
	optcheck.NotNegative(v, "AppMaxBytes", o.AppMaxBytes)
	optcheck.NotNegative(v, "RetryDelay", o.RetryDelay)
	optcheck.NotNegative(v, "Replicas", o.Replicas)
	for _, app := range o.Apps {
		if err := CheckApp(app); err != nil {
			v.AddErr("Apps", err)
		}
	}
	return v.Err()
}
