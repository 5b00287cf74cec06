package natsconf

import (
	"fmt"
	"slices"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
)

// ConfigApps are the apps of the nats-server configuration file at path:
// its accounts but the fixed ones (ServiceAccount, the admin's,
// AuditAccount, CalloutAccount), as Generate writes one per app. An
// account whose name is no valid app name ($SYS, one an operator added for
// something else) is no app. The node creates each app's intake stream.
func ConfigApps(path string) ([]string, error) {
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		return nil, fmt.Errorf("nats-server configuration: %w", err)
	}
	fixed := []string{ServiceAccount, identity.AdminAccount, AuditAccount, CalloutAccount}
	var apps []string
	for _, acc := range opts.Accounts {
		if slices.Contains(fixed, acc.Name) || events.App(acc.Name).Validate() != nil {
			continue
		}
		apps = append(apps, acc.Name)
	}
	slices.Sort(apps)
	return apps, nil
}
