package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

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
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("valid options refused: %v", err)
				}
				return
			}
			if !errors.Is(err, service.ErrInvalidOptions) {
				t.Fatalf("err %v does not wrap ErrInvalidOptions", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err %q does not report %q", err, w)
				}
			}
			if n := len(strings.Split(err.Error(), "\n")); n != len(tc.want) {
				t.Errorf("%d violations reported, want %d: %v", n, len(tc.want), err)
			}
			if runErr := service.New(nil, nil, nil, tc.opts).Run(context.Background()); !errors.Is(runErr, service.ErrInvalidOptions) {
				t.Errorf("Run with invalid options: %v, want ErrInvalidOptions", runErr)
			}
		})
	}
}
