package depcheck

import (
	"strings"
	"testing"
)

// aboveService are the packages that may import service: the binary and
// its tools (cmd/crosstalk/internal/), node, which assembles a running
// server, and the harnesses under node/ that run one for a test. Everything else is below service (events,
// aggregate, eventlog, projector, closer, audit, client, api, ...), and
// service is built on those, so none of them may import it, directly or
// through another package.
var aboveService = []string{"cmd/", "node", "node/"}

// Nothing below service imports it: the dependencies point one way, so the
// closer, the read model and the wire types can be used and tested without
// the endpoints, and service is free to depend on any of them.
func TestNothingBelowServiceImportsIt(t *testing.T) {
	root := moduleRoot(t)
	lines := goList(t, root, "-f", `{{.ImportPath}}{{range .Deps}},{{.}}{{end}}`, "./...")
	checked := map[string]bool{}
	for _, line := range lines {
		deps := strings.Split(line, ",")
		pkg := strings.TrimPrefix(strings.TrimPrefix(deps[0], module), "/")
		if pkg == "service" || isAboveService(pkg) {
			continue
		}
		checked[pkg] = true
		imports := false
		for _, dep := range deps[1:] {
			imports = imports || dep == module+"/service"
		}
		if imports {
			t.Errorf("%s imports service (directly or through another package); only %v may", pkg, aboveService)
		}
	}
	for _, pkg := range []string{"events", "aggregate", "eventlog", "projector", "closer", "audit", "replay", "report", "client", "api"} {
		if !checked[pkg] {
			t.Errorf("package %s was not checked; is it still in the module?", pkg)
		}
	}
}

// The closer is the service's policy scheduler, moved out so that it sees
// the service only through its own small interfaces: it must not import
// service (which imports it), not even through another package.
func TestCloserDoesNotImportService(t *testing.T) {
	for _, dep := range goList(t, moduleRoot(t), "-deps", "-f", "{{.ImportPath}}", "./closer") {
		if dep == module+"/service" {
			t.Fatalf("closer depends on service; service must depend on closer, not the reverse")
		}
	}
}

func isAboveService(pkg string) bool {
	for _, p := range aboveService {
		if pkg == strings.TrimSuffix(p, "/") || (strings.HasSuffix(p, "/") && strings.HasPrefix(pkg, p)) {
			return true
		}
	}
	return false
}
