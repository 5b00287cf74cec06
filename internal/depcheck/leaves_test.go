package depcheck

import (
	"strings"
	"testing"
)

// Packages under internal/ are leaves that the server's packages share
// (testkit, natstest, seed, broker, jsonenc, asyncapi): none of them may
// reach node, service or the binary, directly or through another package,
// or the picture of the house would have an import running upward. The
// binary's tools (bench, demo, soak) live under cmd/crosstalk/internal/,
// and the harnesses that run a node for a test (nodetest, historytest)
// under node/. Test files are not held to it: a _test.go may run a whole
// node (crashtest and rawattack are suites with no code of their own).
func TestInternalHoldsLeavesOnly(t *testing.T) {
	lines := goList(t, moduleRoot(t), "-f", `{{.ImportPath}}{{range .Deps}},{{.}}{{end}}`, "./internal/...")
	checked := map[string]bool{}
	for _, line := range lines {
		deps := strings.Split(line, ",")
		pkg := strings.TrimPrefix(deps[0], module+"/")
		checked[pkg] = true
		for _, dep := range deps[1:] {
			if isToolOrServer(dep) {
				t.Errorf("%s depends on %s; nothing under internal/ may import node, service or cmd/", pkg, dep)
			}
		}
	}
	for _, pkg := range []string{"internal/testkit", "internal/natstest", "internal/seed", "internal/broker"} {
		if !checked[pkg] {
			t.Errorf("package %s was not checked; is it still in the module?", pkg)
		}
	}
}

// isToolOrServer reports whether an import path is node (or a package
// under it), service, or anything under cmd/.
func isToolOrServer(dep string) bool {
	rel, ok := strings.CutPrefix(dep, module+"/")
	if !ok {
		return false
	}
	return rel == "node" || rel == "service" || strings.HasPrefix(rel, "node/") || strings.HasPrefix(rel, "cmd/")
}
