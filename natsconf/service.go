package natsconf

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/crosstalk-dev/crosstalk/identity"
)

// ErrNoServiceUser reports a configuration file in which the service's
// credentials cannot be found: no user of ServiceAccount without
// permissions, or only one whose password is hashed.
var ErrNoServiceUser = errors.New("no service user in the configuration")

// ServiceCredential finds the service principal in the nats-server
// configuration file at path: the user of ServiceAccount that has no
// permissions (other users an operator adds there would have some). The embedded
// server's own node connects with it, so that `serve --nats-config` needs no
// other flag.
func ServiceCredential(path string) (Credential, error) {
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		return Credential{}, fmt.Errorf("nats-server configuration: %w", err)
	}
	for _, u := range opts.Users {
		if u.Account == nil || u.Account.Name != ServiceAccount || u.Permissions != nil {
			continue
		}
		if strings.HasPrefix(u.Password, "$2") {
			return Credential{}, fmt.Errorf("%s: %w: user %q has a bcrypt-hashed password; "+
				"give the service's credentials with --user/--password or --creds", path, ErrNoServiceUser, u.Username)
		}
		return Credential{Principal: PrincipalService, Kind: string(identity.KindService), Account: ServiceAccount,
			User: u.Username, Password: u.Password}, nil
	}
	return Credential{}, fmt.Errorf("%s: %w: account %s has no user without permissions; "+
		"give the service's credentials with --user/--password or --creds", path, ErrNoServiceUser, ServiceAccount)
}
