package service

import (
	"fmt"
	"slices"

	"github.com/crosstalk-dev/crosstalk/internal/optcheck"
)

// ErrInvalidOptions is wrapped by each violation Options.Validate reports;
// it is the same error as every crosstalk package's ErrInvalidOptions.
var ErrInvalidOptions = optcheck.ErrInvalid

// Validate reports every field of o that breaks its rule, joined, each
// wrapping ErrInvalidOptions. A zero field means its documented default;
// a negative count or duration is refused, and so is an unknown role.
// Run returns this error, having served nothing, when New was given
// invalid options.
func (o Options) Validate() error {
	v := optcheck.New("service.Options")
	optcheck.NotNegative(v, "CommandTimeout", o.CommandTimeout)
	optcheck.NotNegative(v, "AppendTimeout", o.AppendTimeout)
	optcheck.NotNegative(v, "MaxRetries", o.MaxRetries)
	optcheck.NotNegative(v, "MaxInFlight", o.MaxInFlight)
	optcheck.NotNegative(v, "MaxQueriesInFlight", o.MaxQueriesInFlight)
	optcheck.NotNegative(v, "MaxInFlightPerConnection", o.MaxInFlightPerConnection)
	optcheck.NotNegative(v, "CacheSize", o.CacheSize)
	optcheck.NotNegative(v, "PolicyCheckInterval", o.PolicyCheckInterval)
	optcheck.NotNegative(v, "CloseGrace", o.CloseGrace)
	optcheck.NotNegative(v, "CloseConcurrency", o.CloseConcurrency)
	optcheck.NotNegative(v, "CloseRun", o.CloseRun)
	optcheck.NotNegative(v, "ReadWait", o.ReadWait)
	optcheck.NotNegative(v, "LagWarn", o.LagWarn)
	optcheck.NotNegative(v, "LagReportInterval", o.LagReportInterval)
	optcheck.NotNegative(v, "StallWarn", o.StallWarn)
	optcheck.NotNegative(v, "StreamCheckInterval", o.StreamCheckInterval)
	for _, r := range o.Roles {
		if !slices.Contains(allRoles, r) {
			v.Add("Roles", fmt.Sprintf("names %q: a role is one of %v", r, allRoles))
		}
	}
	return v.Err()
}
