// Package version says which build of crosstalk is running, from the
// build information the Go toolchain writes into every binary: the
// module's version (a tag when installed with go install, "(devel)" when
// built from a checkout), and the VCS revision, time and dirtiness of a
// checkout build. `crosstalk version`, `--version`, the micro service's
// version and the metric crosstalk_build_info all read it here.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Info is one build's identity.
type Info struct {
	// Version is the main module's version: a tag such as v1.2.3, a
	// pseudo-version, or "(devel)" for a build from a checkout.
	Version string
	// Revision and Time are the VCS commit a checkout build was made from
	// and its time; Modified says the checkout had uncommitted changes.
	// Empty when the toolchain recorded none (go run, go test).
	Revision, Time string
	Modified       bool
	// GoVersion is the toolchain that built it.
	GoVersion string
}

// Read returns this binary's Info.
func Read() Info {
	i := Info{Version: "(devel)", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return i
	}
	if v := bi.Main.Version; v != "" {
		i.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.time":
			i.Time = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}

// String is the one line `crosstalk version` prints.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "crosstalk %s", i.Version)
	if i.Revision != "" {
		fmt.Fprintf(&b, " (%s", short(i.Revision))
		if i.Time != "" {
			fmt.Fprintf(&b, ", %s", i.Time)
		}
		if i.Modified {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, " %s", i.GoVersion)
	return b.String()
}

// Semver is the version as the micro protocol requires it (semantic
// versioning, no leading v): a tag as it is, anything else 0.0.0 with the
// revision as build metadata, so that `nats micro info` tells builds apart.
func (i Info) Semver() string {
	v := strings.TrimPrefix(i.Version, "v")
	if isSemver(v) {
		return v
	}
	meta := "devel"
	if i.Revision != "" {
		meta = short(i.Revision)
		if i.Modified {
			meta += ".modified"
		}
	}
	return "0.0.0+" + meta
}

// isSemver reports whether v is MAJOR.MINOR.PATCH with an optional
// pre-release and build metadata, as module versions are.
func isSemver(v string) bool {
	core, _, _ := strings.Cut(v, "+")
	core, _, _ = strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// short is a revision's first 12 characters.
func short(rev string) string { return rev[:min(len(rev), 12)] }
