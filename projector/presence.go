package projector

import "github.com/crosstalk-dev/crosstalk/events"

// applyAccount folds a presence, settings or erasure event into the account record
// of the subject's account (the subject, not the payload, says whose event
// it is: the stream subject is what the aggregate was loaded by).
func (t *tx) applyAccount(d decoded) error {
	r, err := t.account(events.Account(d.key))
	if err != nil {
		return err
	}
	switch x := d.data.(type) {
	case *events.PresenceChangedData:
		r.Status = x.Status
		if x.Status == events.StatusActive {
			r.MarkActive(d.event.Time)
		}
	case *events.SettingsChangedData:
		r.ShowActivityStatus, r.SendReadReceipts = x.ShowActivityStatus, x.SendReadReceipts
	case *events.AccountErasedData:
		return t.accountErased(d, r, x)
	}
	return nil
}
