package node_test

import (
	"context"
	"testing"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// OpenStopped refuses options without a data directory, naming the field.
func TestStoppedOptionsValidate(t *testing.T) {
	testkit.CheckViolations(t, node.StoppedOptions{Dir: t.TempDir()}.Validate(), node.ErrInvalidOptions, nil)
	_, err := node.OpenStopped(context.Background(), node.StoppedOptions{})
	testkit.CheckViolations(t, err, node.ErrInvalidOptions, []string{"node.StoppedOptions.Dir is empty"})
}
