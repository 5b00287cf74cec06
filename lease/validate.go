package lease

import "github.com/crosstalk-dev/crosstalk/internal/optcheck"

// ErrInvalidOptions is wrapped by each violation Options.Validate reports;
// it is the same error as every crosstalk package's ErrInvalidOptions.
var ErrInvalidOptions = optcheck.ErrInvalid

// Validate reports every field of o that breaks its rule, joined, each
// wrapping ErrInvalidOptions: a zero field means its documented default,
// a negative count or duration is refused.
func (o Options) Validate() error {
	v := optcheck.New("lease.Options")
	optcheck.NotNegative(v, "TTL", o.TTL)
	optcheck.NotNegative(v, "Replicas", o.Replicas)
	return v.Err()
}
