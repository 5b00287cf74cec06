package node

import "github.com/crosstalk-dev/crosstalk/internal/optcheck"

// Validate reports every field of o that breaks its rule, joined, each
// wrapping ErrInvalidOptions: Dir is required. OpenStopped refuses what it
// refuses before it opens anything.
func (o StoppedOptions) Validate() error {
	v := optcheck.New("node.StoppedOptions")
	if o.Dir == "" {
		v.Add("Dir", "is empty: name the stopped node's data directory")
	}
	return v.Err()
}
