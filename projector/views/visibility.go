package views

import (
	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
)

// The visibility rules of activity status and read receipts, in one place:
// the queries (Presence, Messages) and the live feeds both decide with
// them, so that a feed never shows what a query would not. An account's
// settings and the policy in force can each only narrow: another account
// sees what the account shows only if the policy lets the viewer's app see
// it from the account's app (same-app always); one's own is always visible.

// SeesActivityStatus says whether viewer may see account's activity
// status, rec being account's record and p the policy in force (nil: none).
func SeesActivityStatus(viewer, account events.Account, rec *AccountRecord, p *aggregate.Policy) bool {
	return viewer == account ||
		rec.ShowActivityStatus && p.Allows(viewer.App(), account.App(), aggregate.ActionSeeActivityStatus)
}

// SeesReadReceipts says whether viewer may see account's read markers.
func SeesReadReceipts(viewer, account events.Account, rec *AccountRecord, p *aggregate.Policy) bool {
	return viewer == account ||
		rec.SendReadReceipts && p.Allows(viewer.App(), account.App(), aggregate.ActionSeeReadReceipts)
}
