package natsconf

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/crosstalk-dev/crosstalk/internal/seed"
)

// The apps of a generated configuration, with or without a callout, are
// its app accounts: none of the fixed ones.
func TestConfigApps(t *testing.T) {
	issuer, _ := nkeys.CreateAccount()
	pub, _ := issuer.PublicKey()
	c, err := Generate(seed.Apps, seed.SampleUsers, nil)
	if err != nil {
		t.Fatal(err)
	}
	withCallout, err := c.WithCallout(pub, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(seed.Apps))
	for name, conf := range map[string]Config{"plain": c, "callout": withCallout} {
		dir := t.TempDir()
		if err := conf.WriteDir(dir, "127.0.0.1:4222"); err != nil {
			t.Fatal(err)
		}
		got, err := ConfigApps(filepath.Join(dir, ConfFile))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: ConfigApps = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := ConfigApps(filepath.Join(t.TempDir(), "missing.conf")); err == nil {
		t.Error("a missing file gave apps")
	}
}
