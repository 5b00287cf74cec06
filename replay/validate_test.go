package replay_test

import (
	"errors"
	"testing"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/replay"
)

// Validate names the field and the rule; Run refuses before it reads the
// source or writes the store (neither is used here).
func TestOptionsValidate(t *testing.T) {
	testkit.CheckViolations(t, replay.Options{}.Validate(), replay.ErrInvalidOptions, nil)
	bad := replay.Options{BatchSize: -1}
	testkit.CheckViolations(t, bad.Validate(), replay.ErrInvalidOptions, []string{"replay.Options.BatchSize is -1"})
	if _, err := replay.Run(t.Context(), nil, nil, bad); !errors.Is(err, replay.ErrInvalidOptions) {
		t.Errorf("Run: %v, want ErrInvalidOptions", err)
	}
}
