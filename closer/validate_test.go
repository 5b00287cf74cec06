package closer_test

import (
	"errors"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/closer"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// Validate reports every violation at once, each naming its field and
// rule; a closer built with them refuses to run.
func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts closer.Options
		want []string
	}{
		{"zero value", closer.Options{}, nil},
		{"several", closer.Options{CheckInterval: -time.Second, CloseGrace: -time.Millisecond, CloseConcurrency: -1, CloseRun: -2},
			[]string{"closer.Options.CheckInterval is -1s", "closer.Options.CloseGrace is -1ms",
				"closer.Options.CloseConcurrency is -1", "closer.Options.CloseRun is -2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testkit.CheckViolations(t, tc.opts.Validate(), closer.ErrInvalidOptions, tc.want)
			if len(tc.want) == 0 {
				return
			}
			c := closer.New(nil, nil, nil, nil, tc.opts)
			if err := c.Run(t.Context()); !errors.Is(err, closer.ErrInvalidOptions) {
				t.Errorf("Run: %v, want ErrInvalidOptions", err)
			}
		})
	}
}
