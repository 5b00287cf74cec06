package node

import (
	"fmt"
	"slices"

	"github.com/crosstalk-dev/crosstalk/internal/optcheck"
)

// ErrInvalidOptions is wrapped by each violation Options.Validate reports;
// it is the same error as every crosstalk package's ErrInvalidOptions.
var ErrInvalidOptions = optcheck.ErrInvalid

// Validate reports every field of o that breaks its rule, joined, each
// wrapping ErrInvalidOptions, the Service's and the Intake's included: a
// zero field means its documented default, a negative count, size or
// duration is refused, and so are NatsConfig with NatsURL
// (ErrConfigWithURL), a NodeID that is not one (ErrBadNodeID), an
// unknown role and credentials that mix kinds. Start refuses invalid
// options before it touches anything.
func (o Options) Validate() error {
	v := optcheck.New("node.Options")
	optcheck.NotNegative(v, "Replicas", o.Replicas)
	optcheck.NotNegative(v, "Partitions", o.Partitions)
	optcheck.NotNegative(v, "ViewsCacheSize", o.ViewsCacheSize)
	optcheck.NotNegative(v, "LeaseTTL", o.LeaseTTL)
	optcheck.NotNegative(v, "JetStreamWait", o.JetStreamWait)
	optcheck.NotNegative(v, "DurableFeedsMaxAge", o.DurableFeedsMaxAge)
	if o.NatsConfig != "" && o.NatsURL != "" {
		v.AddErr("NatsConfig", ErrConfigWithURL)
	}
	if o.NodeID != "" {
		if err := CheckNodeID(o.NodeID); err != nil {
			v.AddErr("NodeID", err)
		}
	}
	for _, r := range o.Roles {
		if !slices.Contains(AllRoles, r) {
			v.AddErr("Roles", fmt.Errorf("%w: unknown role %q; roles are %s", ErrBadRoles, r, AllRoles))
		}
	}
	if err := o.Credentials.Validate(); err != nil {
		v.AddErr("Credentials", err)
	}
	v.Nested("Service", o.Service.Validate())
	v.Nested("Intake", o.Intake.Validate())
	return v.Err()
}
