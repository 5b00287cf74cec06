package api_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/crosstalk-dev/crosstalk/api"
)

// The named subjects are the ones the contract documents.
func TestSubjectNames(t *testing.T) {
	for got, want := range map[string]string{
		api.AdminPublish: "crosstalk.admin.policy.publish", api.AdminViewsRebuild: "crosstalk.admin.views.rebuild",
		api.CommandSubjects("instagram"): "crosstalk.cmd.instagram.>", api.QuerySubjects: "crosstalk.query.>",
		api.AdminSubjects: "crosstalk.admin.>", api.CommandSubject("messenger", api.ActionMessageSend): "crosstalk.cmd.messenger.message.send",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// handWritten matches a string literal that spells out an endpoint,
// feed, intake or stream subject.
var handWritten = regexp.MustCompile(`^"crosstalk\.(cmd|query|admin|feed|intake|outcome|events|audit)[.">]`)

// Every subject is named once, in api (endpoints, feeds, intake) or in
// events (the streams' subjects): no other package's code spells one out.
func TestNoSubjectWrittenOutsideAPIAndEvents(t *testing.T) {
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if dir := filepath.Dir(rel); dir == "api" || dir == "events" {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && handWritten.MatchString(lit.Value) {
				t.Errorf("%s: subject %s written out: name it in api/subjects.go (or events/subjects.go) and use the name", rel, lit.Value)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
