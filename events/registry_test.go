package events

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// outsideHistory are the declared types that are deliberately not in
// Registry, and why.
var outsideHistory = map[Type]string{
	CommandRejected: "evidence in CROSSTALK_AUDIT, not history",
}

// Every constant of type Type declared in this package is registered, so a
// new type cannot be declared and forgotten: its payload, subject kind and
// facts must be given in Registry, and the registry-driven tests of the
// projector, aggregates, audit and service then check each handles it.
func TestEveryTypeConstantIsRegistered(t *testing.T) {
	declared := declaredTypes(t)
	if len(declared) == 0 {
		t.Fatal("found no Type constants: the test no longer parses the package")
	}
	for name, typ := range declared {
		_, ok := Lookup(typ)
		if why, outside := outsideHistory[typ]; outside {
			if ok {
				t.Errorf("%s (%s) is registered, but is %s", name, typ, why)
			}
			continue
		}
		if !ok {
			t.Errorf("%s (%s) is declared but not in Registry", name, typ)
		}
		if !knownType(typ) {
			t.Errorf("Decode refuses %s (%s)", name, typ)
		}
	}
	if want := len(declared) - len(outsideHistory); len(Registry) != want {
		t.Errorf("Registry has %d entries, %d types are declared for it", len(Registry), want)
	}
}

// declaredTypes parses the package's non-test files and returns each
// constant declared with type Type, by name.
func declaredTypes(t *testing.T) map[string]Type {
	t.Helper()
	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Type{}
	fset := token.NewFileSet()
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f.Name(), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.CONST {
				typeConstants(t, gd, out)
			}
		}
	}
	return out
}

func typeConstants(t *testing.T, gd *ast.GenDecl, out map[string]Type) {
	for _, spec := range gd.Specs {
		vs := spec.(*ast.ValueSpec)
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Type" {
			continue
		}
		for i, name := range vs.Names {
			lit, ok := vs.Values[i].(*ast.BasicLit)
			if !ok {
				t.Fatalf("Type constant %s is not a string literal", name.Name)
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			out[name.Name] = Type(v)
		}
	}
}

// Each entry is complete and found by Lookup, and Types lists the same
// types in the same order.
func TestRegistryEntries(t *testing.T) {
	seen := map[Type]bool{}
	for i, info := range Registry {
		if seen[info.Type] {
			t.Errorf("%s is registered twice", info.Type)
		}
		seen[info.Type] = true
		if info.Subject == SubjectUnknown {
			t.Errorf("%s has no subject kind", info.Type)
		}
		p, q := info.New(), info.New()
		if p == nil || p == q || p.EventType() != info.Type {
			t.Errorf("%s: New() = %T %v, not a fresh payload of its type", info.Type, p, p)
		}
		if got, ok := Lookup(info.Type); !ok || got.Type != info.Type || got.Subject != info.Subject {
			t.Errorf("Lookup(%s) = %+v, %v", info.Type, got, ok)
		}
		if i >= len(Types) || Types[i] != info.Type {
			t.Errorf("Types does not list %s at %d", info.Type, i)
		}
	}
	if len(Types) != len(Registry) {
		t.Errorf("Types has %d entries, Registry %d", len(Types), len(Registry))
	}
	if _, ok := Lookup(CommandRejected); ok {
		t.Error("Lookup finds command.rejected, which is not history")
	}
	if _, ok := Lookup("crosstalk.nothing.v1"); ok {
		t.Error("Lookup finds an unknown type")
	}
}

// The facts a payload states are its own fields: an actor, and exactly the
// message and call ids its data has.
func TestPayloadFacts(t *testing.T) {
	for _, typ := range Types {
		p, ok := samples[typ].(Payload)
		if !ok {
			t.Fatalf("the sample of %s is no Payload", typ)
		}
		if p.Actor() == "" {
			t.Errorf("%s: no actor in %+v", typ, p)
		}
		msg, call := p.IDs()
		want := [2]string{stringField(p, "MessageID"), stringField(p, "CallID")}
		if [2]string{msg, call} != want {
			t.Errorf("%s: IDs() = %q, %q; want %q", typ, msg, call, want)
		}
	}
}

// stringField is the field name of the struct p, "" if it has none.
func stringField(p Payload, name string) string {
	if f := reflect.ValueOf(p).FieldByName(name); f.IsValid() {
		return f.String()
	}
	return ""
}
