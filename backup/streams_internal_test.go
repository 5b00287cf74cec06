package backup

import (
	"strings"
	"testing"
)

// Which streams are crosstalk's, by name: every layout of the log, the
// durable feeds (none in a node's history of the tests), and not the
// leases nor another application's streams; a restore clashes with any of
// them, and with the backup's own.
func TestRolesAndConflictsByName(t *testing.T) {
	want := map[string]Role{"CROSSTALK": RoleLog, "CROSSTALK_P0": RoleLog, "CROSSTALK_P12": RoleLog,
		"CROSSTALK_POLICY": RoleLog, "CROSSTALK_AUDIT": RoleRejections, "CROSSTALK_INTAKE": RoleIntake,
		"CROSSTALK_INTAKE_instagram": RoleIntake, "KV_CROSSTALK_OUTCOMES": RoleOutcomes,
		"KV_CROSSTALK_SNAPSHOTS": RoleSnapshots, "CROSSTALK_KEYS": RoleKeys, "CROSSTALK_FEED_messenger": RoleFeed,
		"KV_CROSSTALK_LEASES": "", "CROSSTALK_PX": "", "ORDERS": "", "KV_SESSIONS": ""}
	for name, role := range want {
		if got := roleOf(name); got != role {
			t.Errorf("roleOf(%s) = %q, want %q", name, got, role)
		}
	}
	if !withConsumers(RoleFeed) || !withConsumers(RoleIntake) || withConsumers(RoleLog) {
		t.Error("consumers: the feeds' and the intake's only")
	}
	m := Manifest{Streams: []Stream{{Name: "CROSSTALK"}, {Name: "LEGACY_OWN"}}}
	got := conflicts([]string{"ORDERS", "KV_CROSSTALK_LEASES", "LEGACY_OWN", "CROSSTALK_FEED_x", "CROSSTALK_P0"}, m)
	if strings.Join(got, " ") != "CROSSTALK_FEED_x CROSSTALK_P0 LEGACY_OWN" {
		t.Errorf("conflicts %v", got)
	}
}
