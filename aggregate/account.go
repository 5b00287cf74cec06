package aggregate

import (
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Account is the state of one account's presence and settings. An account
// exists from its first event; until it changes them, both settings are true,
// as in both apps by default.
type Account struct {
	Name               events.Account
	Stream             Stream
	Status             string
	ShowActivityStatus bool
	SendReadReceipts   bool
	// InteropOptIn is the account's consent to be reached through policy
	// links that require opt-in. Off by default.
	InteropOptIn bool
	// Erasures counts the account's account.erased events.
	Erasures int
}

// NewAccount returns the state of an account with no events: defaults on.
func NewAccount(name events.Account) *Account {
	return &Account{Name: name, ShowActivityStatus: true, SendReadReceipts: true}
}

// SetPresence sets the actor's activity status.
type SetPresence struct {
	Meta
	Status string
}

// ChangeSettings changes the actor's privacy settings; a nil field keeps
// its current value.
type ChangeSettings struct {
	Meta
	ShowActivityStatus *bool
	SendReadReceipts   *bool
	InteropOptIn       *bool
}

// Decide decides an account command. Only the account itself may change its
// presence or settings, so the actor must be the account.
func (a *Account) Decide(cmd Command, p *Policy, now time.Time) (events.Event, error) {
	switch cmd := cmd.(type) {
	case SetPresence:
		if err := a.own(cmd.Meta); err != nil {
			return events.Event{}, err
		}
		switch cmd.Status {
		case events.StatusActive, events.StatusIdle, events.StatusOffline:
		default:
			return events.Event{}, fmt.Errorf("%w: status must be active, idle or offline, got %s", ErrInvalid, events.Quote(cmd.Status))
		}
		return a.Stream.next(events.PresenceChanged, string(a.Name), now, cmd, p.VersionOf(),
			events.PresenceChangedData{Account: a.Name, Status: cmd.Status})
	case ChangeSettings:
		if err := a.own(cmd.Meta); err != nil {
			return events.Event{}, err
		}
		return a.decideSettings(cmd, p, now)
	case EraseAccount:
		return a.decideErase(cmd, p, now)
	}
	return events.Event{}, fmt.Errorf("%w: %T is not an account command", ErrUnknownCommand, cmd)
}

func (a *Account) decideSettings(cmd ChangeSettings, p *Policy, now time.Time) (events.Event, error) {
	if cmd.ShowActivityStatus == nil && cmd.SendReadReceipts == nil && cmd.InteropOptIn == nil {
		return events.Event{}, fmt.Errorf("%w: give at least one of show_activity_status, send_read_receipts, interop_opt_in", ErrInvalid)
	}
	d := events.SettingsChangedData{Account: a.Name, ShowActivityStatus: a.ShowActivityStatus,
		SendReadReceipts: a.SendReadReceipts, InteropOptIn: a.InteropOptIn}
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&d.ShowActivityStatus, cmd.ShowActivityStatus)
	set(&d.SendReadReceipts, cmd.SendReadReceipts)
	set(&d.InteropOptIn, cmd.InteropOptIn)
	return a.Stream.next(events.SettingsChanged, string(a.Name), now, cmd, p.VersionOf(), d)
}

func (a *Account) own(m Meta) error {
	if err := m.check(); err != nil {
		return err
	}
	if m.Actor != a.Name {
		return fmt.Errorf("%w: %s cannot change account %s", ErrInvalid, m.Actor, a.Name)
	}
	return nil
}

// Evolve folds one stored event of this account into its state.
func (a *Account) Evolve(r events.Recorded) error {
	switch r.Event.Type {
	case events.PresenceChanged:
		d, err := events.DataOf[events.PresenceChangedData](r.Event)
		if err != nil {
			return err
		}
		a.Status = d.Status
	case events.SettingsChanged:
		d, err := events.DataOf[events.SettingsChangedData](r.Event)
		if err != nil {
			return err
		}
		a.ShowActivityStatus, a.SendReadReceipts, a.InteropOptIn = d.ShowActivityStatus, d.SendReadReceipts, d.InteropOptIn
	case events.AccountErased:
		a.Erasures++
	}
	a.Stream.advance(r, a.Name.App())
	return nil
}
