package authcallout_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/crosstalk-dev/crosstalk/authcallout"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// Validate reports every violation at once, each naming its field and
// rule and wrapping both ErrOptions and ErrInvalidOptions; Run refuses
// them.
func TestOptionsValidate(t *testing.T) {
	user, _ := nkeys.CreateUser()
	for _, tc := range []struct {
		name string
		opts authcallout.Options
		want []string
	}{
		{"nothing", authcallout.Options{}, []string{"authcallout.Options.Conn: auth callout options: is required",
			"authcallout.Options.Issuer: auth callout options: is required", "authcallout.Options.Keys: auth callout options: is required"}},
		{"several", authcallout.Options{Issuer: user, Keys: authcallout.Keys{"Instagram": {"A"}}, MaxTokenLifetime: -time.Hour, Pending: -1},
			[]string{"authcallout.Options.Conn:", "authcallout.Options.Issuer: auth callout options: must be an account nkey",
				"authcallout.Options.Keys: auth callout options:", "authcallout.Options.MaxTokenLifetime: auth callout options: is -1h0m0s",
				"authcallout.Options.Pending: auth callout options: is -1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			testkit.CheckViolations(t, err, authcallout.ErrInvalidOptions, tc.want)
			if !errors.Is(err, authcallout.ErrOptions) {
				t.Errorf("err %v does not wrap ErrOptions", err)
			}
			if err := authcallout.Run(t.Context(), tc.opts); !errors.Is(err, authcallout.ErrInvalidOptions) {
				t.Errorf("Run: %v, want ErrInvalidOptions", err)
			}
		})
	}
}
