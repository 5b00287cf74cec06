package service_test

import (
	"context"
	"errors"
	"github.com/crosstalk-dev/crosstalk/clock"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/service"
)

// Validate reports every violation at once, each naming its field and
// rule; Run refuses the options without serving anything.
func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts service.Options
		want []string // one per violation
	}{
		{"zero value", service.Options{}, nil},
		{"set", service.Options{CommandTimeout: time.Second, Roles: []string{"commands", "queries"}}, nil},
		{"several", service.Options{CommandTimeout: -time.Second, MaxInFlight: -1, CloseRun: -2, Roles: []string{"commands", "reader"}},
			[]string{"service.Options.CommandTimeout is -1s", "service.Options.MaxInFlight is -1", "service.Options.CloseRun is -2",
				`service.Options.Roles names "reader"`}},
		{"durations", service.Options{ReadWait: -1, StallWarn: -time.Minute, AppendTimeout: -time.Millisecond},
			[]string{"AppendTimeout is -1ms", "ReadWait is -1ns", "StallWarn is -1m0s"}},
		// The closer's second scan must wait out a command's bound
		// (AppendTimeout, 2s by default) on the wall clock.
		{"close grace below a command's bound", service.Options{CloseGrace: 50 * time.Millisecond},
			[]string{"service.Options.CloseGrace is 50ms, shorter than a command's bound (2s"}},
		{"close grace below a short command timeout", service.Options{Clock: clock.Wall{}, CommandTimeout: time.Second, CloseGrace: 500 * time.Millisecond},
			[]string{"CloseGrace is 500ms, shorter than a command's bound (1s"}},
		{"close grace at the bound", service.Options{CloseGrace: service.DefaultAppendTimeout}, nil},
		{"close grace on a simulated clock", service.Options{Clock: clock.NewSim(time.Now()), CloseGrace: time.Millisecond}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testkit.CheckViolations(t, tc.opts.Validate(), service.ErrInvalidOptions, tc.want)
			if len(tc.want) == 0 {
				return
			}
			if runErr := service.New(nil, nil, nil, tc.opts).Run(context.Background()); !errors.Is(runErr, service.ErrInvalidOptions) {
				t.Errorf("Run with invalid options: %v, want ErrInvalidOptions", runErr)
			}
		})
	}
}
