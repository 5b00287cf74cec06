package depcheck

import (
	"strings"
	"testing"
)

// testkitMayImport are the only crosstalk packages testkit may import: the
// in-package tests of every other package use it, and an import of theirs
// would be a cycle.
var testkitMayImport = map[string]bool{
	module + "/internal/testkit": true,
	module + "/events":           true,
	module + "/api":              true,
	module + "/jsonenc":          true, // through events; its tests use no testkit
}

// testkit stays at the bottom of the graph, with the vocabulary and the
// contract, so that any package's own tests can use it.
func TestTestkitImportsOnlyLowPackages(t *testing.T) {
	deps := goList(t, moduleRoot(t), "-deps", "-f", "{{.ImportPath}}", "./internal/testkit")
	if len(deps) == 0 {
		t.Fatal("go list -deps ./internal/testkit listed nothing")
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, module+"/") && !testkitMayImport[dep] {
			t.Errorf("testkit depends on %s; of crosstalk it may import only events and api", dep)
		}
	}
}
