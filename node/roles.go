package node

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Role is one part of crosstalk a node runs (serve --roles).
type Role string

// The roles.
const (
	RoleCommands Role = "commands"
	RoleQueries  Role = "queries"
	RoleCloser   Role = "closer"
	RoleIntake   Role = "intake"
)

// AllRoles are every role, a node's default.
var AllRoles = Roles{RoleCommands, RoleQueries, RoleCloser, RoleIntake}

// Roles are the roles a node runs.
type Roles []Role

// Has says whether r holds role.
func (r Roles) Has(role Role) bool { return slices.Contains(r, role) }

// ParseRoles reads a comma-separated list of roles, such as
// "commands,queries". Each name must be one of AllRoles.
func ParseRoles(s string) (Roles, error) {
	var r Roles
	for _, name := range strings.Split(s, ",") {
		role := Role(strings.TrimSpace(name))
		if !AllRoles.Has(role) {
			return nil, fmt.Errorf("unknown role %q; roles are commands, queries, closer, intake", role)
		}
		if !r.Has(role) {
			r = append(r, role)
		}
	}
	if len(r) == 0 {
		return nil, errors.New("no role")
	}
	return r, nil
}
