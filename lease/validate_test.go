package lease

import (
	"errors"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// Validate reports every violation at once, each naming its field and
// rule; Open refuses before it asks JetStream anything (a nil JetStream
// is never used).
func TestOptionsValidate(t *testing.T) {
	testkit.CheckViolations(t, Options{}.Validate(), ErrInvalidOptions, nil)
	bad := Options{TTL: -time.Second, Replicas: -1}
	testkit.CheckViolations(t, bad.Validate(), ErrInvalidOptions, []string{"lease.Options.TTL is -1s", "lease.Options.Replicas is -1"})
	if _, err := Open(t.Context(), nil, bad); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("Open: %v, want ErrInvalidOptions", err)
	}
}
