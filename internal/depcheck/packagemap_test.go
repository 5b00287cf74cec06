package depcheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The package map at the top of docs/architecture.md says, for each
// package, what it imports of crosstalk, and lists a package only below
// those that import it. The map is what a newcomer reads first, so this
// test holds it to the code: each line's imports are exactly the package's
// (a trailing "…" allows more), and no package imports one listed above it.
func TestArchitecturePackageMapMatchesTheCode(t *testing.T) {
	root := moduleRoot(t)
	rows := packageMap(t, filepath.Join(root, "docs", "architecture.md"))
	if len(rows) < 10 {
		t.Fatalf("found %d rows in the package map; has its code block moved?", len(rows))
	}
	order := map[string]int{}
	for i, r := range rows {
		order[r.pkg] = i
	}
	for _, r := range rows {
		got := crosstalkImports(t, root, r.pkg)
		if !r.open && !slices.Equal(got, r.imports) {
			t.Errorf("docs/architecture.md says %s imports %v; it imports %v", r.pkg, r.imports, got)
		}
		for _, imp := range got {
			if at, listed := order[imp]; listed && at <= order[r.pkg] {
				t.Errorf("%s imports %s, which the map lists above it", r.pkg, imp)
			}
		}
	}
}

// mapRow is one line of the package map.
type mapRow struct {
	pkg     string
	imports []string // sorted
	open    bool     // the line ends its list with "…"
}

// packageMap reads the first code block after "## Package map".
func packageMap(t *testing.T, path string) []mapRow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(data), "## Package map")
	if !ok {
		t.Fatal(`docs/architecture.md has no "## Package map"`)
	}
	parts := strings.SplitN(after, "```", 3)
	if len(parts) < 3 {
		t.Fatal("the package map has no code block")
	}
	var rows []mapRow
	for _, line := range strings.Split(strings.TrimSpace(parts[1]), "\n") {
		rows = append(rows, parseRow(line))
	}
	return rows
}

// parseRow reads "pkg → a, b, c   comment" (or "pkg   comment").
func parseRow(line string) mapRow {
	fields := strings.Fields(line)
	r := mapRow{pkg: fields[0], imports: []string{}}
	_, rest, ok := strings.Cut(line, "→")
	if !ok {
		return r
	}
	for _, f := range strings.Fields(rest) {
		name := strings.TrimSuffix(f, ",")
		if name == "…" {
			r.open = true
			break
		}
		r.imports = append(r.imports, name)
		if !strings.HasSuffix(f, ",") {
			break // the list ended; a comment follows
		}
	}
	slices.Sort(r.imports)
	return r
}

// crosstalkImports lists what pkg imports of the module, sorted, as
// paths relative to the module.
func crosstalkImports(t *testing.T, root, pkg string) []string {
	t.Helper()
	var out []string
	for _, imp := range goList(t, root, "-f", `{{join .Imports " "}}`, "./"+pkg) {
		if rel, ok := strings.CutPrefix(imp, module+"/"); ok && rel != "docs/policies" {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
