package views

import (
	"fmt"
	"time"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
)

// PolicyView is one published policy version and how many conversations it
// has closed so far.
type PolicyView struct {
	Version     uint64            `json:"version"`
	Name        string            `json:"name"`
	EffectiveAt time.Time         `json:"effective_at"`
	Links       []events.LinkData `json:"links"`
	Closed      int               `json:"closed"` // conversation.closed events caused by this version
}

// Policies returns every published policy version, in version order.
func (q *Queries) Policies() ([]PolicyView, error) {
	snap, release, err := q.snapshot()
	if err != nil {
		return nil, err
	}
	defer release()
	published, err := loadPolicies(snap)
	if err != nil {
		return nil, err
	}
	views := make([]PolicyView, 0, len(published))
	for _, p := range published {
		closed, _, err := GetUint(snap, PolicyClosedKey(p.Version))
		if err != nil {
			return nil, err
		}
		views = append(views, PolicyView{
			Version: p.Version, Name: p.Name, EffectiveAt: p.EffectiveAt, Links: p.Links, Closed: int(closed),
		})
	}
	return views, nil
}

// PolicyClosed returns how many conversations policy version v has closed
// so far: one counter, read without the policies themselves, so that the
// policy report costs the same whatever size the policies are.
func (q *Queries) PolicyClosed(v uint64) (int, error) {
	release, err := q.acquire()
	if err != nil {
		return 0, err
	}
	defer release()
	closed, _, err := GetUint(q.db, PolicyClosedKey(v))
	return int(closed), err
}

// PolicyInForce returns the policy deciding at now: the highest published
// version whose effective_at is not after now. It is nil (same-app only, as
// aggregate.Policy treats nil) when none is in force yet.
func (q *Queries) PolicyInForce(now time.Time) (*aggregate.Policy, error) {
	release, err := q.acquire()
	if err != nil {
		return nil, err
	}
	defer release()
	return PolicyAt(q.db, now)
}

// PolicyAt picks the policy in force among the stored ones. Policies
// are few (one per published version), so reading them all per query costs
// less than keeping a cache coherent with Apply.
func PolicyAt(r Reader, now time.Time) (*aggregate.Policy, error) {
	published, err := loadPolicies(r)
	if err != nil {
		return nil, err
	}
	var best *aggregate.Policy
	for _, d := range published {
		if !d.EffectiveAt.After(now) && (best == nil || d.Version > best.Version) {
			p := aggregate.PolicyFromData(d)
			best = &p
		}
	}
	return best, nil
}

// loadPolicies reads every stored policy, in version order.
func loadPolicies(r Reader) ([]events.PolicyPublishedData, error) {
	var out []events.PolicyPublishedData
	err := Scan(r, tablePrefix(tablePolicy), nil, func(k, v []byte) (bool, error) {
		var d events.PolicyPublishedData
		if err := Unmarshal(k, v, &d); err != nil {
			return false, err
		}
		out = append(out, d)
		return true, nil
	})
	return out, err
}

// PolicyPair returns the policy announced last (version done, or before
// any, the one in force just before v took effect; nil for none) and v.
func PolicyPair(r Reader, done, v uint64) (before, after *aggregate.Policy, err error) {
	published, err := loadPolicies(r)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range published {
		if d.Version == v {
			p := aggregate.PolicyFromData(d)
			after = &p
		}
	}
	if after == nil {
		return nil, nil, fmt.Errorf("policy %d: not in the views yet", v)
	}
	for _, d := range published {
		prior := d.Version == done || done == 0 && d.Version < v && !d.EffectiveAt.After(after.EffectiveAt)
		if prior && (before == nil || d.Version > before.Version) {
			p := aggregate.PolicyFromData(d)
			before = &p
		}
	}
	return before, after, nil
}

// Unmarshal decodes the JSON record v stored at k.
func Unmarshal(k, v []byte, into any) error {
	if err := json.Unmarshal(v, into); err != nil {
		return fmt.Errorf("decode record %q: %w", k, err)
	}
	return nil
}
