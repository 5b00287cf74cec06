package broker

import (
	"github.com/crosstalk-dev/crosstalk/internal/optcheck"
)

// Validate reports every field of o that breaks its rule, joined, each
// wrapping optcheck.ErrInvalid: JetStreamDir is required, SyncInterval is
// not negative, and Account is not given with ConfigFile. Start refuses
// what it refuses.
func (o Options) Validate() error {
	v := optcheck.New("broker.Options")
	if o.JetStreamDir == "" {
		v.Add("JetStreamDir", "is empty: name where JetStream keeps its files")
	}
	optcheck.NotNegative(v, "SyncInterval", o.SyncInterval)
	if o.Account != "" && o.ConfigFile != "" {
		v.Add("Account", "is set with ConfigFile: the configuration file names its own accounts")
	}
	return v.Err()
}
