package service_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The hostile-producer suite: one table of what a hostile or careless
// producer can do to crosstalk through NATS, each case reproduced against a
// real nats-server and the real service, and what crosstalk must answer.
// Each class has its rule in docs/reliability.md ("Hostile producers");
// files named hostile_<class>_test.go register their cases with hostile,
// so that the classes grow without editing one shared list.

// hostileCase is one attack and its check. run builds what it needs (most
// cases start their own harness with newHarness(t)).
type hostileCase struct {
	class, name string
	run         func(t *testing.T)
}

var hostileCases []hostileCase

// hostile registers a case of class; it returns true so that a file can
// register at package level: var _ = hostile(...).
func hostile(class, name string, run func(t *testing.T)) bool {
	hostileCases = append(hostileCases, hostileCase{class: class, name: name, run: run})
	return true
}

// TestHostileProducer runs every registered case, class by class.
func TestHostileProducer(t *testing.T) {
	hostileClasses := documentedClasses(t)
	cases := slices.Clone(hostileCases)
	slices.SortStableFunc(cases, func(a, b hostileCase) int { return strings.Compare(a.class, b.class) })
	for _, c := range cases {
		if !slices.Contains(hostileClasses, c.class) {
			t.Errorf("case %q has class %q, which docs/reliability.md does not list", c.name, c.class)
		}
		t.Run(c.class+"/"+c.name, c.run)
	}
	for _, class := range hostileClasses {
		if !slices.ContainsFunc(cases, func(c hostileCase) bool { return c.class == class }) {
			t.Errorf("class %q has no case", class)
		}
	}
}

// documentedClasses reads the first column of the table under "## Hostile
// producers" in docs/reliability.md: the classes, each with its rule.
func documentedClasses(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "reliability.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Hostile producers\n")
	if !ok {
		t.Fatal(`docs/reliability.md has no "## Hostile producers" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var classes []string
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(line, "| ") {
			continue
		}
		class := strings.TrimSpace(cells[1])
		if class != "class" && !strings.HasPrefix(class, "---") {
			classes = append(classes, class)
		}
	}
	if len(classes) == 0 {
		t.Fatal("the Hostile producers table lists no class")
	}
	return classes
}
