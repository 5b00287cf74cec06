package backup

import (
	"regexp"
	"slices"
	"strings"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/lease"
	"github.com/crosstalk-dev/crosstalk/snapshots"
)

// Role is what crosstalk keeps in a stream of a backup.
type Role string

// The roles of the streams a backup holds.
const (
	// RoleLog is the event log: CROSSTALK, or the partitioned log's
	// streams. The only truth; the views are derived from it.
	RoleLog Role = "log"
	// RoleRejections is CROSSTALK_AUDIT, the refused commands: evidence.
	RoleRejections Role = "rejections"
	// RoleIntake is an app's intake stream, commands not decided yet.
	RoleIntake Role = "intake"
	// RoleOutcomes is the intake's outcomes bucket, the answers to
	// commands decided: a command sent again is answered, not redone.
	RoleOutcomes Role = "outcomes"
	// RoleSnapshots is the bucket of conversation snapshots and message
	// records, which bound a long conversation's load.
	RoleSnapshots Role = "snapshots"
	// RoleKeys is CROSSTALK_KEYS, the sealing keys, wrapped by the master
	// key (which is not in a backup).
	RoleKeys Role = "keys"
	// RoleFeed is a durable feed stream, CROSSTALK_FEED_<app>.
	RoleFeed Role = "feed"
)

// FeedStreamPrefix starts the name of each app's durable feed stream.
const FeedStreamPrefix = "CROSSTALK_FEED_"

// kvPrefix is the prefix of a KV bucket's stream.
const kvPrefix = "KV_"

// leasesWhy is why the leases bucket is not backed up.
const leasesWhy = "leases are ephemeral: each names a running node and lapses seconds after it stops; " +
	"restored, it would name a node that is gone, and the nodes of the restored server take them afresh"

// logName matches the names of the log's streams in any layout.
var logName = regexp.MustCompile(`^` + events.StreamName + `(_P[0-9]+|_POLICY)?$`)

// roleOf is the role of a stream named name, by its name alone ("" for a
// stream that is not crosstalk's, or that a backup leaves out).
func roleOf(name string) Role {
	switch {
	case logName.MatchString(name):
		return RoleLog
	case name == events.AuditStreamName:
		return RoleRejections
	case name == intake.LegacyStreamName || strings.HasPrefix(name, intake.StreamPrefix):
		return RoleIntake
	case name == kvPrefix+intake.OutcomesBucket:
		return RoleOutcomes
	case name == kvPrefix+snapshots.Bucket:
		return RoleSnapshots
	case name == keyring.StreamName:
		return RoleKeys
	case strings.HasPrefix(name, FeedStreamPrefix):
		return RoleFeed
	}
	return ""
}

// withConsumers says whether a stream's snapshot keeps its consumers:
// those of the intake and the feeds are durable, and where they are is
// state (what the intake has delivered, how far an app has read); the
// other streams are read by ephemeral consumers only.
func withConsumers(r Role) bool { return r == RoleIntake || r == RoleFeed }

// selection is what a backup of a server holding the streams names takes:
// the log's streams (as eventlog lays them out, in its order), then every
// other stream crosstalk owns, sorted; and what it leaves out. The log
// goes first so that CROSSTALK_KEYS is snapshotted after it: an erasure
// made meanwhile may be missing from the backup's log, but its key is
// gone from the backup's keys too, never kept beside a log that says it
// was erased (docs/operations.md, "The keys that seal message content").
func selection(names []string, log *eventlog.Log) ([]Stream, []LeftOut) {
	var out []Stream
	for _, n := range log.StreamNames() {
		out = append(out, Stream{Name: n, Role: RoleLog})
	}
	var left []LeftOut
	for _, n := range slices.Sorted(slices.Values(names)) {
		r := roleOf(n)
		switch {
		case n == kvPrefix+lease.Bucket:
			left = append(left, LeftOut{Name: n, Why: leasesWhy})
		case r == RoleLog && !slices.Contains(log.StreamNames(), n):
			left = append(left, LeftOut{Name: n, Why: "not a stream of the log's layout (" +
				strings.Join(log.StreamNames(), ", ") + "): no crosstalk reads it"})
		case r != "" && r != RoleLog:
			out = append(out, Stream{Name: n, Role: r, Consumers: withConsumers(r)})
		}
	}
	return out, left
}

// conflicts are the streams of names that a restore of m would clash with:
// m's own, and any other of crosstalk's, which a restored history must not
// meet (the leases bucket excepted: serve creates it).
func conflicts(names []string, m Manifest) []string {
	var out []string
	for _, n := range slices.Sorted(slices.Values(names)) {
		if roleOf(n) != "" || slices.ContainsFunc(m.Streams, func(s Stream) bool { return s.Name == n }) {
			out = append(out, n)
		}
	}
	return out
}
