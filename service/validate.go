package service

import (
	"fmt"
	"github.com/crosstalk-dev/crosstalk/clock"
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
	optcheck.NotNegative(v, "SnapshotEvery", o.SnapshotEvery)
	optcheck.NotNegative(v, "LagWarn", o.LagWarn)
	optcheck.NotNegative(v, "LagReportInterval", o.LagReportInterval)
	optcheck.NotNegative(v, "StallWarn", o.StallWarn)
	optcheck.NotNegative(v, "StreamCheckInterval", o.StreamCheckInterval)
	checkCloseGrace(v, o)
	for _, r := range o.Roles {
		if !slices.Contains(allRoles, r) {
			v.Add("Roles", fmt.Sprintf("names %q: a role is one of %v", r, allRoles))
		}
	}
	return v.Err()
}

// checkCloseGrace refuses, on the wall clock, a CloseGrace shorter than a
// command's bound (AppendTimeout, or CommandTimeout when shorter, their
// defaults for zero): the closer's second scan must come after every
// command decided just before a policy took effect has appended or
// expired, or a conversation such a command started could stay open
// (docs/policy.md). A simulated clock (the demo, the bench, tests) reaches
// the effective time when its owner sets it, with no command racing it,
// and may run the second scan sooner.
func checkCloseGrace(v *optcheck.Violations, o Options) {
	if _, wall := o.Clock.(clock.Wall); o.CloseGrace <= 0 || o.Clock != nil && !wall {
		return // the default, CommandTimeout, is never shorter
	}
	d := o
	d.EnsureDefaults()
	if bound := min(d.AppendTimeout, d.CommandTimeout); o.CloseGrace < bound {
		v.Add("CloseGrace", fmt.Sprintf("is %s, shorter than a command's bound (%s: AppendTimeout, or CommandTimeout when shorter): "+
			"a command decided just before a policy took effect could append after the closer's second scan", o.CloseGrace, bound))
	}
}
