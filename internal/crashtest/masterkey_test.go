package crashtest

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/crosstalk-dev/crosstalk/keyring"
)

// masterKeys holds each test's shared master key file.
var masterKeys sync.Map // *testing.T → string

// sharedMasterKey is the master key file every node of t's cluster is
// given (serve --master-key), made on the first call: the nodes of a
// cluster share the keys stream, so they must share its master key
// (docs/operations.md), as an operator copies the first node's file.
func sharedMasterKey(t *testing.T) string {
	t.Helper()
	if p, ok := masterKeys.Load(t); ok {
		return p.(string)
	}
	p := filepath.Join(t.TempDir(), "master.key")
	if err := keyring.CreateMaster(p); err != nil {
		t.Fatal(err)
	}
	masterKeys.Store(t, p)
	t.Cleanup(func() { masterKeys.Delete(t) })
	return p
}
