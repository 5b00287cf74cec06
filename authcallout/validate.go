package authcallout

import (
	"fmt"

	"github.com/nats-io/nkeys"

	"github.com/crosstalk-dev/crosstalk/internal/optcheck"
)

// ErrInvalidOptions is wrapped by each violation Options.Validate reports;
// it is the same error as every crosstalk package's ErrInvalidOptions.
var ErrInvalidOptions = optcheck.ErrInvalid

// Validate reports every field of o that breaks its rule, joined, each
// wrapping ErrInvalidOptions and ErrOptions: Conn, Issuer (an account
// nkey) and at least one valid app key are required; a zero
// MaxTokenLifetime or Pending means its default, a negative one is
// refused. Run refuses invalid options.
func (o Options) Validate() error {
	v := optcheck.New("authcallout.Options")
	rule := func(field, format string, args ...any) {
		v.AddErr(field, fmt.Errorf("%w: "+format, append([]any{ErrOptions}, args...)...))
	}
	if o.Conn == nil {
		rule("Conn", "is required: the callout's connection")
	}
	if o.Issuer == nil {
		rule("Issuer", "is required: the account nkey that signs the answers")
	} else if pub, err := o.Issuer.PublicKey(); err != nil || !nkeys.IsValidPublicAccountKey(pub) {
		rule("Issuer", "must be an account nkey (A…)")
	}
	if len(o.Keys) == 0 {
		rule("Keys", "is required: at least one app key")
	} else if err := o.Keys.Validate(); err != nil {
		rule("Keys", "%w", err)
	}
	if o.MaxTokenLifetime < 0 {
		rule("MaxTokenLifetime", "is %s: it must not be negative (0 means its default)", o.MaxTokenLifetime)
	}
	if o.Pending < 0 {
		rule("Pending", "is %d: it must not be negative (0 means its default)", o.Pending)
	}
	return v.Err()
}
