package depcheck

import (
	"strings"
	"testing"
)

// module is the import path of crosstalk's module.
const module = "github.com/crosstalk-dev/crosstalk"

// serverOnly are substrings of import paths that only the server needs: a
// producer that imports the client must not build a store or a broker.
var serverOnly = []string{"cockroachdb/pebble", "nats-server"}

// The client speaks the wire contract and nothing else of crosstalk, so a
// producer can use it without building the server.
func TestClientDependsOnlyOnTheContract(t *testing.T) {
	deps := goList(t, moduleRoot(t), "-deps", "-f", "{{.ImportPath}}", "./client")
	if len(deps) == 0 {
		t.Fatal("go list -deps ./client listed nothing")
	}
	for _, dep := range deps {
		for _, bad := range serverOnly {
			if strings.Contains(dep, bad) {
				t.Errorf("client depends on %s; it must not build the server's %s", dep, bad)
			}
		}
		if strings.HasPrefix(dep, module+"/") && dep != module+"/api" && dep != module+"/client" {
			t.Errorf("client depends on %s; of crosstalk it may import only api", dep)
		}
	}
}

// The contract imports only the standard library: any client, in Go or
// read by a person, gets it without a dependency.
func TestContractImportsOnlyTheStandardLibrary(t *testing.T) {
	deps := goList(t, moduleRoot(t), "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./api")
	if len(deps) == 0 {
		t.Fatal("go list -deps ./api listed nothing")
	}
	for _, dep := range deps {
		if dep != module+"/api" {
			t.Errorf("api depends on %s; it must import only the standard library", dep)
		}
	}
}
