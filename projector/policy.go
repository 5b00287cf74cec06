package projector

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
func (s *Store) Policies() ([]PolicyView, error) {
	snap, release, err := s.snapshot()
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
		closed, _, err := getUint(snap, policyClosedKey(p.Version))
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
func (s *Store) PolicyClosed(v uint64) (int, error) {
	release, err := s.acquire()
	if err != nil {
		return 0, err
	}
	defer release()
	closed, _, err := getUint(s.db, policyClosedKey(v))
	return int(closed), err
}

// PolicyInForce returns the policy deciding at now: the highest published
// version whose effective_at is not after now. It is nil (same-app only, as
// aggregate.Policy treats nil) when none is in force yet.
func (s *Store) PolicyInForce(now time.Time) (*aggregate.Policy, error) {
	release, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer release()
	return policyInForce(s.db, now)
}

// policyInForce picks the policy in force among the stored ones. Policies
// are few (one per published version), so reading them all per query costs
// less than keeping a cache coherent with Apply.
func policyInForce(r reader, now time.Time) (*aggregate.Policy, error) {
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
func loadPolicies(r reader) ([]events.PolicyPublishedData, error) {
	var out []events.PolicyPublishedData
	err := scan(r, tablePrefix(tablePolicy), nil, func(k, v []byte) (bool, error) {
		var d events.PolicyPublishedData
		if err := unmarshal(k, v, &d); err != nil {
			return false, err
		}
		out = append(out, d)
		return true, nil
	})
	return out, err
}

// unmarshal decodes the JSON record v stored at k.
func unmarshal(k, v []byte, into any) error {
	if err := json.Unmarshal(v, into); err != nil {
		return fmt.Errorf("decode record %q: %w", k, err)
	}
	return nil
}
