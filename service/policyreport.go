package service

import "github.com/crosstalk-dev/crosstalk/api"

// PolicySettled reports whether a policy report (see PolicyReport) leaves
// nothing to wait for: the version in force, if any, is applied and no
// version is scheduled. It relies on PolicyReport marking superseded
// versions applied, so every version must be effective and applied.
func PolicySettled(rep api.PolicyReport) bool {
	for _, v := range rep.Versions {
		if !v.Effective || !v.Applied {
			return false
		}
	}
	return true
}
