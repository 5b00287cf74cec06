package depcheck

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// domain lists the packages that must stay free of infrastructure (with
// the request codec and the JSON primitives, which the domain may use).
var domain = []string{"./events", "./aggregate", "./identity", "./codec", "./jsonenc"}

// forbidden are substrings of import paths the domain must not reach,
// directly or through another package.
var forbidden = []string{"nats-io", "cockroachdb/pebble"}

func TestDomainImportsNoInfrastructure(t *testing.T) {
	root := moduleRoot(t)
	for _, pkg := range domain {
		deps := goList(t, root, "-deps", "-f", "{{.ImportPath}}", pkg)
		if len(deps) == 0 {
			t.Fatalf("go list -deps %s listed nothing", pkg)
		}
		for _, dep := range deps {
			for _, bad := range forbidden {
				if strings.Contains(dep, bad) {
					t.Errorf("%s depends on %s; the domain must not import %s", pkg, dep, bad)
				}
			}
		}
	}
}

// moduleRoot is the directory of the go.mod that `go env GOMOD` reports.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" {
		t.Fatalf("not inside a module (GOMOD=%q)", gomod)
	}
	return filepath.Dir(gomod)
}

func goList(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %v: %v\n%s", args, err, ee.Stderr)
		}
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}
