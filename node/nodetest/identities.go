package nodetest

import (
	"path/filepath"
	"testing"

	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/node"
)

// IdentityOptions are the options of a quiet node, listening on a free
// port, under a generated identity configuration of the seed's apps and
// users, and that configuration (its credentials). The configuration is
// in auth/ and the node's data in data/ of a directory of the test's:
// opts.NatsConfig names the configuration file.
func IdentityOptions(t testing.TB) (node.Options, natsconf.Config) {
	t.Helper()
	dir := t.TempDir()
	c, err := natsconf.Generate(seed.Apps, seed.SampleUsers, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteDir(filepath.Join(dir, "auth"), "127.0.0.1:4222"); err != nil {
		t.Fatal(err)
	}
	return node.Options{Dir: filepath.Join(dir, "data"), Listen: "127.0.0.1:0",
		Logger: testkit.Quiet(), NatsConfig: filepath.Join(dir, "auth", natsconf.ConfFile)}, c
}
