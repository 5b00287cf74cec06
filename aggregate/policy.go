package aggregate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Action is something an account of one app may do toward an account of
// another, governed by a policy link.
type Action int

// The actions a policy link governs.
const (
	ActionStart Action = iota
	ActionSend
	ActionCall
	ActionSeeActivityStatus
	ActionSeeReadReceipts
)

// String is the action's name as policies and refusals spell it.
func (a Action) String() string {
	return [...]string{"start_conversation", "send", "call", "see_activity_status", "see_read_receipts"}[a]
}

// Policy is one published version of the cross-app rules.
type Policy struct {
	Version     uint64
	Name        string
	EffectiveAt time.Time
	Links       []events.LinkData
	// ContentRetentionDays is the retention rule: the closer erases the
	// content of messages sent more than that many days ago; 0 keeps it
	// forever (docs/erasure.md).
	ContentRetentionDays int
}

// MaxContentRetentionDays bounds a retention rule: 100 years, far inside
// what a time.Duration holds.
const MaxContentRetentionDays = 36500

// Allows reports whether an account of app from may do a toward an account
// of app to. Same-app pairs are always allowed; a pair with no link is denied.
// A nil policy (nothing published yet) allows only same-app pairs.
func (p *Policy) Allows(from, to events.App, a Action) bool {
	if from == to {
		return true
	}
	if p == nil {
		return false
	}
	for _, l := range p.Links {
		if events.App(l.From) == from && events.App(l.To) == to {
			return linkAllows(l, a)
		}
	}
	return false
}

func linkAllows(l events.LinkData, a Action) bool {
	switch a {
	case ActionStart:
		return l.StartConversation
	case ActionSend:
		return l.Send
	case ActionCall:
		return l.Call
	case ActionSeeActivityStatus:
		return l.SeeActivityStatus
	case ActionSeeReadReceipts:
		return l.SeeReadReceipts
	}
	return false
}

// AllowsAmong reports whether every ordered pair of distinct apps may do a:
// the rule for group conversations.
func (p *Policy) AllowsAmong(apps []events.App, a Action) bool {
	for _, from := range apps {
		for _, to := range apps {
			if !p.Allows(from, to, a) {
				return false
			}
		}
	}
	return true
}

// Describe names the policy for error messages: its version and name, or
// that none is in force yet.
func (p *Policy) Describe() string {
	if p == nil {
		return "no policy in force (apps do not talk to each other until one is published)"
	}
	return fmt.Sprintf("policy version %d (%s)", p.Version, p.Name)
}

// VersionOf returns the policy's version, 0 for a nil policy.
func (p *Policy) VersionOf() uint64 {
	if p == nil {
		return 0
	}
	return p.Version
}

// Data returns the policy as the payload of a policy.published event.
func (p Policy) Data() events.PolicyPublishedData {
	return events.PolicyPublishedData{Version: p.Version, Name: p.Name, EffectiveAt: p.EffectiveAt.UTC(), Links: p.Links,
		ContentRetentionDays: p.ContentRetentionDays}
}

// PolicyFromData converts an event payload back into a Policy.
func PolicyFromData(d events.PolicyPublishedData) Policy {
	return Policy{Version: d.Version, Name: d.Name, EffectiveAt: d.EffectiveAt.UTC(), Links: d.Links,
		ContentRetentionDays: d.ContentRetentionDays}
}

// decodeProblem is the decoder's err as a sentence that quotes no more of
// the document than events.Quote does: encoding/json's unknown-field error
// and time's parse error quote the whole value, however long (the only
// time in a policy is effective_at).
func decodeProblem(err error) string {
	if pe, ok := errors.AsType[*time.ParseError](err); ok {
		return "effective_at " + events.Quote(pe.Value) + " is not an RFC 3339 time"
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); strings.HasPrefix(msg, unknown) {
		if name, uerr := strconv.Unquote(msg[len(unknown):]); uerr == nil {
			return "unknown field " + events.Quote(name)
		}
	}
	return err.Error()
}

// ParsePolicy decodes and validates a policy document (the JSON of the
// contract). Unknown fields are refused so that a typo in a rule name cannot
// silently deny or allow something.
func ParsePolicy(b []byte) (Policy, error) {
	var d events.PolicyPublishedData
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Policy{}, fmt.Errorf("%w: %s", ErrInvalidPolicy, decodeProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Policy{}, fmt.Errorf("%w: trailing data after the policy document", ErrInvalidPolicy)
	}
	p := PolicyFromData(d)
	if err := p.Validate(); err != nil {
		return p, err
	}
	if d.Links == nil {
		// null (or nothing) would read as "no links", denying every
		// cross-app pair: say so with [], not by omission.
		return p, fmt.Errorf("%w: links must be a list of links, [] for none; null or no links is refused", ErrInvalidPolicy)
	}
	return p, nil
}

// Validate checks the version, name, time, retention rule and links of a
// policy.
func (p Policy) Validate() error {
	if p.Version == 0 {
		return fmt.Errorf("%w: version must be a positive integer", ErrInvalidPolicy)
	}
	if p.Version > api.MaxPolicyVersion {
		return fmt.Errorf("%w: version must be at most %d (2^53-1, what every JSON client reads exactly), got %d",
			ErrInvalidPolicy, uint64(api.MaxPolicyVersion), p.Version)
	}
	if strings.TrimSpace(p.Name) == "" || len(p.Name) > 200 {
		return fmt.Errorf("%w: name must be 1 to 200 characters", ErrInvalidPolicy)
	}
	if y := p.EffectiveAt.UTC().Year(); p.EffectiveAt.IsZero() || y < 1 || y > 9999 {
		return fmt.Errorf("%w: effective_at must be an RFC 3339 time between years 1 and 9999 UTC", ErrInvalidPolicy)
	}
	if p.ContentRetentionDays < 0 || p.ContentRetentionDays > MaxContentRetentionDays {
		return fmt.Errorf("%w: content_retention_days must be a whole number of days from 0 (keep content forever) to %d, got %d",
			ErrInvalidPolicy, MaxContentRetentionDays, p.ContentRetentionDays)
	}
	if len(p.Links) > api.MaxPolicyLinks {
		return fmt.Errorf("%w: a policy has at most %d links, got %d", ErrInvalidPolicy, api.MaxPolicyLinks, len(p.Links))
	}
	if err := p.validateLinks(); err != nil {
		return err
	}
	return p.validateSize()
}

// validateSize refuses a policy whose stored payload would exceed
// api.MaxPolicyBytes.
func (p Policy) validateSize() error {
	data, err := json.Marshal(p.Data())
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidPolicy, err)
	}
	if len(data) > api.MaxPolicyBytes {
		return fmt.Errorf("%w: a policy is at most %d bytes as stored, this one is %d", ErrInvalidPolicy, api.MaxPolicyBytes, len(data))
	}
	return nil
}

// validateLinks checks each link and that no two have the same from and to.
func (p Policy) validateLinks() error {
	seen := map[[2]string]bool{}
	for i, l := range p.Links {
		if err := events.App(l.From).Validate(); err != nil {
			return fmt.Errorf("%w: link %d: %v", ErrInvalidPolicy, i, err)
		}
		if err := events.App(l.To).Validate(); err != nil {
			return fmt.Errorf("%w: link %d: %v", ErrInvalidPolicy, i, err)
		}
		if l.From == l.To {
			return fmt.Errorf("%w: link %d is from %s to itself; same-app pairs are always allowed", ErrInvalidPolicy, i, l.From)
		}
		if l.MaxParticipants < 0 || l.MaxParticipants == 1 {
			return fmt.Errorf("%w: link %d: max_participants must be 0 (no bound) or at least 2, got %d", ErrInvalidPolicy, i, l.MaxParticipants)
		}
		if seen[[2]string{l.From, l.To}] {
			return fmt.Errorf("%w: duplicate link from %s to %s", ErrInvalidPolicy, l.From, l.To)
		}
		seen[[2]string{l.From, l.To}] = true
	}
	return nil
}

// Policies is the policy aggregate: every published version, in version
// order. It lives on the single subject crosstalk.events.policy.
type Policies struct {
	Versions []Policy
	Stream   Stream
	eventIDs map[uint64]string // version -> id of its policy.published event
}

// InForce returns the policy that decides at now: the highest version whose
// effective_at is not after now, or nil when none is.
func (ps *Policies) InForce(now time.Time) *Policy {
	var best *Policy
	for i := range ps.Versions {
		p := &ps.Versions[i]
		if !p.EffectiveAt.After(now) && (best == nil || p.Version > best.Version) {
			best = p
		}
	}
	return best
}

// Latest returns the highest published version, or 0.
func (ps *Policies) Latest() uint64 {
	if n := len(ps.Versions); n > 0 {
		return ps.Versions[n-1].Version
	}
	return 0
}

// Get returns the policy of version v.
func (ps *Policies) Get(v uint64) (Policy, bool) {
	for _, p := range ps.Versions {
		if p.Version == v {
			return p, true
		}
	}
	return Policy{}, false
}

// PublishPolicy is the admin command that publishes a new policy version.
type PublishPolicy struct {
	CommandID string
	Policy    Policy
	// Principal is who published it, as Meta.Principal.
	Principal string
	// Trace is the publish's trace context, as Meta.Trace.
	Trace events.Trace
}

// EventID returns the id of the policy.published event of version v, the
// event that causes its closings, or "" if v is not published.
func (ps *Policies) EventID(v uint64) string { return ps.eventIDs[v] }

// Decide refuses a policy that is invalid or whose version is not greater
// than every published one, and otherwise returns its policy.published event.
// The event records the policy in force when it was published: the
// aggregate's own, so the policy argument, there to give every aggregate one
// shape, is ignored.
func (ps *Policies) Decide(cmd Command, _ *Policy, now time.Time) (events.Event, error) {
	c, ok := cmd.(PublishPolicy)
	if !ok {
		return events.Event{}, fmt.Errorf("%w: %T is not a policy command", ErrUnknownCommand, cmd)
	}
	if err := c.Policy.Validate(); err != nil {
		return events.Event{}, err
	}
	if latest := ps.Latest(); c.Policy.Version <= latest {
		return events.Event{}, fmt.Errorf("%w: version %d is not greater than the latest published version %d",
			ErrPolicyVersionConflict, c.Policy.Version, latest)
	} else if c.Policy.Version-latest > api.MaxPolicyVersionStep {
		return events.Event{}, fmt.Errorf("%w: version %d is more than %d above the latest published version %d",
			ErrInvalidPolicy, c.Policy.Version, uint64(api.MaxPolicyVersionStep), latest)
	}
	return ps.Stream.next(events.PolicyPublished, "policy", now, c,
		ps.InForce(now).VersionOf(), c.Policy.Data())
}

// Evolve folds a stored policy.published event into the aggregate and
// records its event id.
func (ps *Policies) Evolve(r events.Recorded) error {
	var d events.PolicyPublishedData
	if err := r.Event.DecodeData(&d); err != nil {
		return err
	}
	if ps.eventIDs == nil {
		ps.eventIDs = make(map[uint64]string)
	}
	ps.eventIDs[d.Version] = r.Event.ID
	ps.Versions = append(ps.Versions, PolicyFromData(d))
	sort.Slice(ps.Versions, func(i, j int) bool { return ps.Versions[i].Version < ps.Versions[j].Version })
	ps.Stream.advance(r, "")
	return nil
}
