package eventlog

import "github.com/crosstalk-dev/crosstalk/internal/optcheck"

// ErrInvalidOptions is wrapped by each violation Options.Validate and
// RejectionsOptions.Validate report; it is the same error as every
// crosstalk package's ErrInvalidOptions.
var ErrInvalidOptions = optcheck.ErrInvalid

// Validate reports every field of o that breaks its rule, joined, each
// wrapping ErrInvalidOptions: a zero field means its documented default,
// a negative count or duration is refused.
func (o Options) Validate() error {
	v := optcheck.New("eventlog.Options")
	optcheck.NotNegative(v, "Replicas", o.Replicas)
	optcheck.NotNegative(v, "Duplicates", o.Duplicates)
	optcheck.NotNegative(v, "Partitions", o.Partitions)
	return v.Err()
}

// Validate reports every field of o that breaks its rule, as
// Options.Validate does.
func (o RejectionsOptions) Validate() error {
	v := optcheck.New("eventlog.RejectionsOptions")
	optcheck.NotNegative(v, "MaxBytes", o.MaxBytes)
	optcheck.NotNegative(v, "MaxAge", o.MaxAge)
	optcheck.NotNegative(v, "Replicas", o.Replicas)
	return v.Err()
}
