package depcheck

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docPath is a backquoted token of the "Where does X live" table that
// names a file or directory of the repository: lower case, and with a
// slash or a file's extension (`node.Options` or `serve --roles` are not
// paths).
var docPath = regexp.MustCompile("`([a-z][a-z0-9_]*(?:/[a-z0-9_.-]+)+|[a-z][a-z0-9_]*\\.(?:go|md|yaml|json))`")

// mdLink is a markdown link to another page of docs/.
var mdLink = regexp.MustCompile(`\]\(([a-z0-9_-]+\.md)(?:#[a-z0-9-]+)?\)`)

// The table "Where does X live" in docs/architecture.md sends a reader to
// files by name; a file moved or renamed leaves the row pointing nowhere.
// This test holds each path it names, and each page it links, to the
// tree, and holds a row whose paths lie in more than one package to saying
// so ("spans ..."), so that each row answers in one place or says why not.
func TestWhereDoesXLivePathsExist(t *testing.T) {
	root := moduleRoot(t)
	rows := whereRows(t, filepath.Join(root, "docs", "architecture.md"))
	if len(rows) < 20 {
		t.Fatalf("found %d rows in \"Where does X live\"; has the table moved?", len(rows))
	}
	paths := 0
	for _, r := range rows {
		pkgs := map[string]bool{}
		for _, m := range docPath.FindAllStringSubmatch(r.answer, -1) {
			paths++
			p := m[1]
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err != nil {
				t.Errorf("row %q names %s, which does not exist", r.what, p)
				continue
			}
			if pkg := packageOf(root, p); pkg != "" {
				pkgs[pkg] = true
			}
		}
		for _, m := range mdLink.FindAllStringSubmatch(r.answer, -1) {
			if _, err := os.Stat(filepath.Join(root, "docs", m[1])); err != nil {
				t.Errorf("row %q links %s, which is not in docs/", r.what, m[1])
			}
		}
		if len(pkgs) > 1 && !strings.HasPrefix(r.answer, "spans ") {
			t.Errorf("row %q names files of %d packages %v but does not begin with \"spans\"", r.what, len(pkgs), slices.Sorted(maps.Keys(pkgs)))
		}
	}
	if paths < 50 {
		t.Fatalf("found %d paths in the table; has its form changed?", paths)
	}
}

// whereRow is one row of the table: what is looked for, and the answer.
type whereRow struct{ what, answer string }

// whereRows reads the table after "## Where does X live", up to the next
// section.
func whereRows(t *testing.T, path string) []whereRow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(data), "## Where does X live")
	if !ok {
		t.Fatal(`docs/architecture.md has no "## Where does X live"`)
	}
	section, _, _ := strings.Cut(after, "\n## ")
	var rows []whereRow
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) != 2 || !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| what |") || strings.HasPrefix(line, "| ---") {
			continue
		}
		rows = append(rows, whereRow{
			what:   strings.TrimPrefix(cells[0], "| "),
			answer: strings.TrimSpace(strings.TrimSuffix(cells[1], " |")),
		})
	}
	return rows
}

// packageOf returns the directory of the Go package that holds p (p
// itself, or the nearest directory above it with Go files), or "" for a
// path outside any package (docs/).
func packageOf(root, p string) string {
	if strings.HasPrefix(p, "docs/") || !strings.Contains(p, "/") {
		return ""
	}
	dir := p
	if fi, err := os.Stat(filepath.Join(root, p)); err == nil && !fi.IsDir() {
		dir = filepath.ToSlash(filepath.Dir(p))
	}
	for dir != "." && dir != "" {
		if gofiles, _ := filepath.Glob(filepath.Join(root, dir, "*.go")); len(gofiles) > 0 {
			return dir
		}
		dir = filepath.ToSlash(filepath.Dir(dir))
	}
	return ""
}
