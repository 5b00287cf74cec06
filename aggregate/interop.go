package aggregate

import (
	"fmt"

	"github.com/crosstalk-dev/crosstalk/events"
)

// link returns the rule from one app to another, if the policy has one.
func (p *Policy) link(from, to events.App) (events.LinkData, bool) {
	if p == nil {
		return events.LinkData{}, false
	}
	for _, l := range p.Links {
		if events.App(l.From) == from && events.App(l.To) == to {
			return l, true
		}
	}
	return events.LinkData{}, false
}

// HasOptInLinks reports whether any link of the policy requires opt-in.
func (p *Policy) HasOptInLinks() bool {
	if p == nil {
		return false
	}
	for _, l := range p.Links {
		if l.RequiresOptIn {
			return true
		}
	}
	return false
}

// NeedsOptIn reports whether any link among apps requires the reached
// account's opt-in, so that a caller knows to look the opt-ins up.
func (p *Policy) NeedsOptIn(apps []events.App) bool {
	for _, from := range apps {
		for _, to := range apps {
			if l, ok := p.link(from, to); ok && from != to && l.RequiresOptIn {
				return true
			}
		}
	}
	return false
}

// Reachable checks the per-account rules of the links among participants:
// every account reached through a link that requires opt-in has opted in
// (optedIn[account]), and no conversation spanning a link is larger than
// the link's max_participants. The app-level rules are AllowsAmong's.
func (p *Policy) Reachable(participants []events.Account, optedIn map[events.Account]bool) error {
	for _, from := range participants {
		for _, to := range participants {
			l, ok := p.link(from.App(), to.App())
			if !ok || from.App() == to.App() {
				continue
			}
			if l.MaxParticipants > 0 && len(participants) > l.MaxParticipants {
				return fmt.Errorf("%w: %s allows at most %d participants between %s and %s, got %d",
					ErrCrossAppNotAllowed, p.Describe(), l.MaxParticipants, l.From, l.To, len(participants))
			}
			if l.RequiresOptIn && !optedIn[to] {
				return fmt.Errorf("%w: %s has not opted in to be reached from %s (settings.set interop_opt_in)",
					ErrCrossAppNotAllowed, to, l.From)
			}
		}
	}
	return nil
}
