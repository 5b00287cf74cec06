package projector_test

import (
	"errors"
	"testing"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// Validate reports every violation at once, each naming its field and
// rule; Open refuses the options.
func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts projector.Options
		want []string
	}{
		{"dir only", projector.Options{Dir: "views"}, nil},
		{"several", projector.Options{CacheSize: -1, MaxBatch: -2, RetryInterval: -1e6},
			[]string{"projector.Options.Dir is required", "projector.Options.CacheSize is -1",
				"projector.Options.MaxBatch is -2", "projector.Options.RetryInterval is -1ms"}},
		{"streams", projector.Options{Dir: "views", Streams: 2, FeedsAfterStreams: []uint64{1, 2, 3}, RunNotes: -1},
			[]string{"projector.Options.FeedsAfterStreams has 3 entries for 2 streams", "projector.Options.RunNotes is -1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testkit.CheckViolations(t, tc.opts.Validate(), projector.ErrInvalidOptions, tc.want)
			if len(tc.want) == 0 {
				return
			}
			if _, err := projector.Open(tc.opts); !errors.Is(err, projector.ErrInvalidOptions) {
				t.Errorf("Open: %v, want ErrInvalidOptions", err)
			}
		})
	}
}
