package eventlog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// Validate reports every violation at once, each naming its field and
// rule; Open, OpenExisting and OpenRejections refuse before they ask
// JetStream anything (a nil JetStream is never used).
func TestOptionsValidate(t *testing.T) {
	ctx := context.Background()
	testkit.CheckViolations(t, eventlog.Options{Replicas: 3, Partitions: 4}.Validate(), eventlog.ErrInvalidOptions, nil)
	bad := eventlog.Options{Replicas: -1, Duplicates: -time.Minute, Partitions: -2}
	testkit.CheckViolations(t, bad.Validate(), eventlog.ErrInvalidOptions, []string{"eventlog.Options.Replicas is -1",
		"eventlog.Options.Duplicates is -1m0s", "eventlog.Options.Partitions is -2"})
	if _, err := eventlog.Open(ctx, nil, bad); !errors.Is(err, eventlog.ErrInvalidOptions) {
		t.Errorf("Open: %v, want ErrInvalidOptions", err)
	}
	if _, err := eventlog.OpenExisting(ctx, nil, bad); !errors.Is(err, eventlog.ErrInvalidOptions) {
		t.Errorf("OpenExisting: %v, want ErrInvalidOptions", err)
	}
	testkit.CheckViolations(t, eventlog.RejectionsOptions{}.Validate(), eventlog.ErrInvalidOptions, nil)
	badRej := eventlog.RejectionsOptions{MaxBytes: -1, MaxAge: -time.Hour, Replicas: -3}
	testkit.CheckViolations(t, badRej.Validate(), eventlog.ErrInvalidOptions, []string{"eventlog.RejectionsOptions.MaxBytes is -1",
		"eventlog.RejectionsOptions.MaxAge is -1h0m0s", "eventlog.RejectionsOptions.Replicas is -3"})
	if _, err := eventlog.OpenRejections(ctx, nil, badRej); !errors.Is(err, eventlog.ErrInvalidOptions) {
		t.Errorf("OpenRejections: %v, want ErrInvalidOptions", err)
	}
}
