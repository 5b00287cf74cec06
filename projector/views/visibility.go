package views

import (
	"github.com/cockroachdb/pebble/v2"

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

// VisibilityChanges calls fn, once per pair, for each viewer and account
// of different apps that share a cross-app conversation (open or closed)
// where what viewer sees of the account's activity status or read
// receipts differs between the policies before and after, with what it
// sees under after. It reads one snapshot of db, which fn gets.
func VisibilityChanges(db *pebble.DB, before, after *aggregate.Policy,
	fn func(r Reader, viewer, a events.Account, status, receipts bool) error) error {
	snap := db.NewSnapshot()
	defer snap.Close()
	seen := map[[2]events.Account]bool{}
	accounts := map[events.Account]*AccountRecord{}
	return Scan(snap, tablePrefix(tableConv), nil, func(k, v []byte) (bool, error) {
		var c struct {
			Participants []events.Account `json:"participants"`
			CrossApp     bool             `json:"cross_app"`
		}
		if err := Unmarshal(k, v, &c); err != nil || !c.CrossApp {
			return err == nil, err
		}
		for _, viewer := range c.Participants {
			for _, a := range c.Participants {
				if viewer.App() == a.App() || seen[[2]events.Account{viewer, a}] {
					continue
				}
				seen[[2]events.Account{viewer, a}] = true
				if err := visibilityChange(snap, accounts, viewer, a, before, after, fn); err != nil {
					return false, err
				}
			}
		}
		return true, nil
	})
}

// visibilityChange calls fn if a policy change flips what viewer sees of
// a; accounts holds the records read so far.
func visibilityChange(r Reader, accounts map[events.Account]*AccountRecord, viewer, a events.Account,
	before, after *aggregate.Policy, fn func(r Reader, viewer, a events.Account, status, receipts bool) error) error {
	rec, ok := accounts[a]
	if !ok {
		var err error
		if rec, err = accountOrDefault(r, a); err != nil {
			return err
		}
		accounts[a] = rec
	}
	status, receipts := SeesActivityStatus(viewer, a, rec, after), SeesReadReceipts(viewer, a, rec, after)
	if status == SeesActivityStatus(viewer, a, rec, before) && receipts == SeesReadReceipts(viewer, a, rec, before) {
		return nil
	}
	return fn(r, viewer, a, status, receipts)
}
