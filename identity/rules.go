package identity

import (
	"errors"
	"fmt"
	"slices"

	"github.com/crosstalk-dev/crosstalk/events"
)

// AdminAccount is the NATS account whose users publish policies and
// rebuild views, unless the service is told another.
const AdminAccount = "ADMIN"

// Sentinel errors of a refusal. Both travel as 403: ErrWrongApp as
// wrong_app, ErrForbidden as forbidden. A refusal names the rule, never
// the content the caller asked for.
var (
	ErrWrongApp  = errors.New("wrong app")
	ErrForbidden = errors.New("forbidden")
)

// MayCommand reports whether p may send a command on subject (which names
// an app) acting as actor.
func (p Principal) MayCommand(subjectApp events.App, actor events.Account) error {
	switch p.Kind {
	case KindSelfDeclared:
		return nil
	case KindApp, KindUser:
	default:
		return fmt.Errorf("%w: a %s principal sends no commands; an app or its users do", ErrForbidden, p.Kind)
	}
	if subjectApp != p.App() {
		return fmt.Errorf("%w: %s may send only on crosstalk.cmd.%s.>", ErrWrongApp, p, p.App())
	}
	if actor.App() != p.App() {
		return fmt.Errorf("%w: %s may act only as accounts of %s, not %s", ErrWrongApp, p, p.App(), actor)
	}
	if p.Kind == KindUser && actor != p.Self() {
		return fmt.Errorf("%w: %s may act only as itself", ErrForbidden, p)
	}
	return nil
}

// MayErase reports whether p may erase account through subjectApp's
// account.erase (docs/erasure.md): the account itself, its app's backend,
// or the admin, who answers a data subject's request the app cannot.
// Nobody else: another user, another app, the auditor, the service.
func (p Principal) MayErase(subjectApp events.App, account events.Account) error {
	if p.Kind == KindAdmin {
		return nil
	}
	return p.MayCommand(subjectApp, account)
}

// MayViewAs reports whether p may read what account sees (its inbox, its
// conversations, presence as its viewer).
func (p Principal) MayViewAs(account events.Account) error {
	switch p.Kind {
	case KindSelfDeclared:
		return nil
	case KindApp:
		if account.App() == p.App() {
			return nil
		}
		return fmt.Errorf("%w: %s may view only as accounts of %s", ErrForbidden, p, p.App())
	case KindUser:
		if account == p.Self() {
			return nil
		}
		return fmt.Errorf("%w: %s may view only as itself", ErrForbidden, p)
	}
	return fmt.Errorf("%w: a %s principal reads no inbox", ErrForbidden, p.Kind)
}

// Viewer is the account p views as when a query names claimed: an end
// user is always itself, whatever the body says; anyone else views as the
// account it claims, which MayViewAs then checks.
func (p Principal) Viewer(claimed events.Account) events.Account {
	if p.Kind == KindUser {
		return p.Self()
	}
	return claimed
}

// MayViewConversation reports whether p may read a conversation with these
// participants: an end user only its own, an app one of whose accounts
// takes part.
func (p Principal) MayViewConversation(participants []events.Account) error {
	switch p.Kind {
	case KindSelfDeclared:
		return nil
	case KindUser:
		if slices.Contains(participants, p.Self()) {
			return nil
		}
	case KindApp:
		for _, a := range participants {
			if a.App() == p.App() {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: only a participant may read a conversation", ErrForbidden)
}

// MayAdmin reports whether p may use crosstalk.admin.>: the admin account,
// or the service's own account, whose users NATS permissions restrict.
func (p Principal) MayAdmin() error {
	switch p.Kind {
	case KindSelfDeclared, KindAdmin, KindService:
		return nil
	}
	return fmt.Errorf("%w: only an admin may use crosstalk.admin.>", ErrForbidden)
}
