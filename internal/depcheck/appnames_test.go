package depcheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// appName matches a string literal that is an app, an account of one, or a
// subject naming one: the way code would test for an app. Help texts and
// comments that mention apps are documentation and are not matched.
var appName = regexp.MustCompile(`^(crosstalk\.cmd\.)?(instagram|messenger|thirdparty-[a-z0-9-]+)([:.][A-Za-z0-9_.-]*)?$`)

// narrative holds the packages that tell the seed story: internal/seed is
// the demo's (and the tests') script, whose cast IS instagram:alice,
// messenger:bob and messenger:carol. Like docs/ and the policy files, it is
// data that the code runs, not a rule the code applies.
var narrative = map[string]bool{
	"internal/seed": true,
}

// testSupport holds packages that only tests import: like _test.go files,
// they write stories with named accounts, and apply no rule.
var testSupport = map[string]bool{
	"node/historytest": true,
	"internal/testkit": true,
}

// Policy is data: no Go code outside tests, docs/ and the seed story's script
// names an app, so a new app (DMA interoperability) is a policy, never a
// code change.
func TestNoAppNamesInCode(t *testing.T) {
	root := moduleRoot(t)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() && (rel == "docs" || strings.HasPrefix(d.Name(), ".") || testSupport[filepath.ToSlash(rel)] || narrative[filepath.ToSlash(rel)]) && rel != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		return checkLiterals(t, path, rel)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func checkLiterals(t *testing.T, path, rel string) error {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		if v, err := strconv.Unquote(lit.Value); err == nil && appName.MatchString(v) {
			t.Errorf("%s: names an app in code: %s", fset.Position(lit.Pos()), lit.Value)
		}
		return true
	})
	return nil
}
