package version

import "testing"

func TestSemverForMicro(t *testing.T) {
	for _, c := range []struct {
		in   Info
		want string
	}{
		{Info{Version: "v1.2.3"}, "1.2.3"},
		{Info{Version: "v0.0.0-20261207231000-abcdef123456"}, "0.0.0-20261207231000-abcdef123456"},
		{Info{Version: "(devel)", Revision: "0123456789abcdef", Modified: true}, "0.0.0+0123456789ab.modified"},
		{Info{Version: "(devel)"}, "0.0.0+devel"},
	} {
		if got := c.in.Semver(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.in, got, c.want)
		}
	}
}

func TestStringNamesTheBuild(t *testing.T) {
	i := Info{Version: "(devel)", Revision: "0123456789abcdef", Time: "2026-12-07T23:00:00Z", Modified: true, GoVersion: "go1.26.8"}
	want := "crosstalk (devel) (0123456789ab, 2026-12-07T23:00:00Z, modified) go1.26.8"
	if got := i.String(); got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if r := Read(); r.GoVersion == "" || r.Version == "" {
		t.Errorf("Read: %+v", r)
	}
}
