package node

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/crosstalk-dev/crosstalk/api"
)

// Role is one part of crosstalk a node runs (serve --roles).
type Role string

// The roles; docs/operations.md, "Node ids and roles", says what each runs.
const (
	RoleCommands Role = api.RoleCommands
	RoleQueries  Role = api.RoleQueries
	RoleCloser   Role = api.RoleCloser
	RoleIntake   Role = api.RoleIntake
)

// AllRoles are every role, a node's default.
var AllRoles = Roles{RoleCommands, RoleQueries, RoleCloser, RoleIntake}

// ErrBadRoles reports a --roles that names an unknown role or none.
var ErrBadRoles = errors.New("bad roles")

// Roles are the roles a node runs.
type Roles []Role

// Has says whether r holds role.
func (r Roles) Has(role Role) bool { return slices.Contains(r, role) }

// String is r comma-separated, as --roles takes it.
func (r Roles) String() string { return strings.Join(r.Strings(), ",") }

// Strings are r's names.
func (r Roles) Strings() []string {
	out := make([]string, len(r))
	for i, role := range r {
		out[i] = string(role)
	}
	return out
}

// needsViews says whether a node with r keeps a read model: to answer
// queries, or for the closer, which finds what to close in it.
func (r Roles) needsViews() bool { return r.Has(RoleQueries) || r.Has(RoleCloser) }

// ParseRoles reads a comma-separated list of roles, such as
// "commands,queries". Each name must be one of AllRoles; repeats count
// once; an empty list is refused.
func ParseRoles(s string) (Roles, error) {
	var r Roles
	for _, name := range strings.Split(s, ",") {
		role := Role(strings.TrimSpace(name))
		switch {
		case role == "":
			continue
		case !AllRoles.Has(role):
			return nil, fmt.Errorf("%w: unknown role %q; roles are %s", ErrBadRoles, role, AllRoles)
		case !r.Has(role):
			r = append(r, role)
		}
	}
	if len(r) == 0 {
		return nil, fmt.Errorf("%w: %q names no role; give one or more of %s", ErrBadRoles, s, AllRoles)
	}
	return r, nil
}
