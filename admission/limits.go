package admission

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limit is what one principal may send of one class of request, commands
// or queries: a token bucket that refills at Rate requests a second and
// holds Burst, and at most InFlight of them at once. A request beyond
// either is refused at once with 429 too_many_requests; one beyond the
// bucket says how long to wait. A zero field takes its default; a negative
// one lifts that limit.
type Limit struct {
	// Rate is the sustained requests a second.
	Rate float64
	// Burst is how many may come at once after a quiet spell.
	Burst int
	// InFlight bounds the requests of the class answered at once.
	InFlight int
}

// KindLimits are the limits of one kind of principal: commands and, apart
// from them, queries, so that a flood of one never stops the other.
type KindLimits struct {
	Commands Limit
	Queries  Limit
}

// PrincipalLimits are the limits of each principal, by kind of principal
// (package identity). The service's own requests, which cross no import,
// are never limited. service.Options.Limits holds them; a zero field takes the
// default DefaultLimits gives.
type PrincipalLimits struct {
	// User is each end user's, all its connections together. Default:
	// commands 20/s, burst 40, 16 in flight; queries 50/s, burst 200, 32
	// in flight. A person in a chat never sends that fast for long; a
	// script does at once.
	User KindLimits
	// App is each app backend's (all its connections together), which
	// acts for all its users. Default: commands 2,000/s, burst 4,000,
	// 1,024 in flight; queries 5,000/s, burst 10,000, 1,024 in flight.
	App KindLimits
	// Admin is each admin's. Default: commands 10/s, burst 20, 4 in
	// flight; queries 100/s, burst 200, 32 in flight.
	Admin KindLimits
	// Development is each connection's in development mode, where every
	// request is self-declared and a connection may act for anyone, as an
	// app's backend does. Default: App's.
	Development KindLimits
	// Principals bounds the principals (connections, in development mode)
	// whose buckets are kept; the least recently seen is forgotten first,
	// and starts again with a full bucket. Default: 65,536.
	Principals int
}

// DefaultLimits returns the default limits (PrincipalLimits documents
// them).
func DefaultLimits() PrincipalLimits {
	app := KindLimits{
		Commands: Limit{Rate: 2000, Burst: 4000, InFlight: 1024},
		Queries:  Limit{Rate: 5000, Burst: 10000, InFlight: 1024},
	}
	return PrincipalLimits{
		User: KindLimits{
			Commands: Limit{Rate: 20, Burst: 40, InFlight: 16},
			Queries:  Limit{Rate: 50, Burst: 200, InFlight: 32},
		},
		App: app,
		Admin: KindLimits{
			Commands: Limit{Rate: 10, Burst: 20, InFlight: 4},
			Queries:  Limit{Rate: 100, Burst: 200, InFlight: 32},
		},
		Development: app,
		Principals:  65536,
	}
}

// EnsureDefaults fills every zero field with its default; Development's
// come from App once App's are filled.
func (l *PrincipalLimits) EnsureDefaults() {
	def := DefaultLimits()
	l.User.fill(def.User)
	l.App.fill(def.App)
	l.Admin.fill(def.Admin)
	l.Development.fill(l.App)
	l.Principals = cmp.Or(l.Principals, def.Principals)
}

func (k *KindLimits) fill(def KindLimits) {
	k.Commands.fill(def.Commands)
	k.Queries.fill(def.Queries)
}

func (l *Limit) fill(def Limit) {
	l.Rate = cmp.Or(l.Rate, def.Rate)
	l.Burst = cmp.Or(l.Burst, def.Burst)
	l.InFlight = cmp.Or(l.InFlight, def.InFlight)
}

// ErrBadLimit reports a limit that Set cannot read.
var ErrBadLimit = errors.New("bad limit")

// Set sets one limit from spec, as serve's --limit takes it:
// KIND.CLASS=RATE/BURST/IN-FLIGHT, where KIND is user, app, admin or
// development, CLASS commands or queries, and each number may be empty
// (its default) or -1 (no limit): "user.commands=20/40/16",
// "app.queries=-1//".
func (l *PrincipalLimits) Set(spec string) error {
	name, values, ok := strings.Cut(spec, "=")
	if !ok {
		return fmt.Errorf("%w: %q: want KIND.CLASS=RATE/BURST/IN-FLIGHT, as user.commands=20/40/16", ErrBadLimit, spec)
	}
	target, err := l.limitNamed(name)
	if err != nil {
		return err
	}
	parts := strings.Split(values, "/")
	if len(parts) != 3 {
		return fmt.Errorf("%w: %q: want RATE/BURST/IN-FLIGHT, three numbers (empty for the default, -1 for none)", ErrBadLimit, spec)
	}
	var lim Limit
	if lim.Rate, err = parseNumber(parts[0], parseFloat); err == nil {
		if lim.Burst, err = parseNumber(parts[1], strconv.Atoi); err == nil {
			lim.InFlight, err = parseNumber(parts[2], strconv.Atoi)
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %q: %v", ErrBadLimit, spec, err)
	}
	*target = lim
	return nil
}

// limitNamed is the limit KIND.CLASS names.
func (l *PrincipalLimits) limitNamed(name string) (*Limit, error) {
	kindName, class, _ := strings.Cut(name, ".")
	kinds := map[string]*KindLimits{"user": &l.User, "app": &l.App, "admin": &l.Admin, "development": &l.Development}
	k, ok := kinds[kindName]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: kind %q: want user, app, admin or development", ErrBadLimit, kindName)
	case class == "commands":
		return &k.Commands, nil
	case class == "queries":
		return &k.Queries, nil
	}
	return nil, fmt.Errorf("%w: class %q: want commands or queries", ErrBadLimit, class)
}

func parseFloat(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err == nil && math.IsNaN(v) {
		return 0, strconv.ErrSyntax
	}
	return v, err
}

// parseNumber reads one number of a limit: "" is 0 (the default), a
// negative one -1 (none).
func parseNumber[T int | float64](s string, parse func(string) (T, error)) (T, error) {
	if s == "" {
		return 0, nil
	}
	v, err := parse(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return max(v, -1), nil
}
