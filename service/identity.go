package service

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/headerguard"
	"github.com/crosstalk-dev/crosstalk/identity"
)

// ErrUnguarded is returned by Run when identities are to be enforced on a
// connection that does not read through package headerguard: nats.go alone
// can be made to see a caller nats-server never wrote.
var ErrUnguarded = errors.New("identities need a connection dialed through headerguard (headerguard.Option)")

// requestInfo is the Nats-Request-Info header of msg when the service
// enforces identities, and "" otherwise: development mode reads no header
// at all, so its hot path is what it was. A header block the connection's
// guard found malformed, or one that names its caller twice or hides it, is
// the request's fault (400): the service never guesses which copy the
// server wrote (package headerguard, docs/security.md).
func (s *Service) requestInfo(msg *nats.Msg) (string, error) {
	if !s.opts.EnforceIdentity {
		return "", nil
	}
	if _, bad := msg.Header[headerguard.MalformedHeader]; bad {
		return "", badRequest("the request's header block is malformed: every header line must end with CRLF")
	}
	info, err := identity.RequestInfo(msg.Header, msg.Reply)
	switch {
	case errors.Is(err, identity.ErrDuplicateInfo):
		return "", badRequest("%v", err)
	case err != nil:
		return "", fmt.Errorf("%w: %v", identity.ErrForbidden, err)
	}
	return info, nil
}

// principal is who sent msg: identity.SelfDeclared in development mode,
// otherwise the principal nats-server wrote into the request's header
// (requestInfo). A header the service cannot read is a refusal, not a
// guess.
func (s *Service) principal(msg *nats.Msg) (identity.Principal, error) {
	if !s.opts.EnforceIdentity {
		return identity.SelfDeclared, nil
	}
	info, err := s.requestInfo(msg)
	if err != nil {
		return identity.Principal{}, err
	}
	p, err := identity.FromRequestInfo(info, s.opts.AdminAccount)
	if err != nil {
		return identity.Principal{}, fmt.Errorf("%w: the caller's identity cannot be read (%v)", identity.ErrForbidden, err)
	}
	return p, nil
}

// closingPrincipal is what the closer's closings record: the service
// itself when identities are enforced, nothing in development mode.
func (s *Service) closingPrincipal() string {
	if !s.opts.EnforceIdentity {
		return ""
	}
	return identity.Principal{Kind: identity.KindService}.String()
}

// mayCommandAccount checks that p may send the account command cmd on
// app's subject: an erasure by the rule of erasure (the admin may too),
// any other by mayCommand's. The caller has checked that the actor is an
// account.
func mayCommandAccount(p identity.Principal, app events.App, cmd aggregate.Command) error {
	actor := cmd.Header().Actor
	if _, erase := cmd.(aggregate.EraseAccount); erase && p.Enforced() {
		return p.MayErase(app, actor)
	}
	return mayCommand(p, app, actor)
}

// mayCommand checks that p may send a command on app's subject acting as
// actor. An actor that is no account at all is the request's fault (400),
// as the aggregate would say, not a refusal of the principal.
func mayCommand(p identity.Principal, app events.App, actor events.Account) error {
	if !p.Enforced() {
		return nil
	}
	if _, err := events.ParseAccount(string(actor)); err != nil {
		return fmt.Errorf("%w: actor: %v", aggregate.ErrInvalid, err)
	}
	return p.MayCommand(app, actor)
}
