package asyncapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/asyncapi"
)

const committed = "../../docs/asyncapi.yaml"

func readCommitted(t *testing.T) (raw []byte, doc map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if doc, err = asyncapi.Parse(raw); err != nil {
		t.Fatalf("%s: %v", committed, err)
	}
	return raw, doc
}

// The committed document is what the generator makes of today's types:
// run `go generate ./internal/asyncapi` after changing the contract.
func TestCommittedDocumentIsGenerated(t *testing.T) {
	raw, _ := readCommitted(t)
	want, err := asyncapi.Marshal(asyncapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, want) {
		t.Fatalf("%s is stale: run go generate ./internal/asyncapi", committed)
	}
}

// The document is valid AsyncAPI 3.0.0, by the official JSON Schema (both
// of its published forms).
func TestDocumentIsValidAsyncAPI(t *testing.T) {
	_, doc := readCommitted(t)
	// Validate the document as JSON decodes it, numbers included.
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(mustJSON(t, doc)))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"asyncapi-3.0.0.json", "asyncapi-3.0.0-without-id.json"} {
		t.Run(file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			schemaDoc, err := jsonschema.UnmarshalJSON(f)
			if err != nil {
				t.Fatal(err)
			}
			c := jsonschema.NewCompiler()
			if err := c.AddResource(file, schemaDoc); err != nil {
				t.Fatal(err)
			}
			sch, err := c.Compile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Fatalf("docs/asyncapi.yaml is not valid AsyncAPI 3.0.0:\n%v", err)
			}
		})
	}
}

// A document that breaks the AsyncAPI schema fails validation: the test
// above is not vacuous.
func TestValidationCatchesAnInvalidDocument(t *testing.T) {
	_, doc := readCommitted(t)
	doc["operations"].(map[string]any)["query.status"].(map[string]any)["action"] = "publish" // AsyncAPI 2's verb
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(mustJSON(t, doc)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(filepath.Join("testdata", "asyncapi-3.0.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	if sch.Validate(inst) == nil {
		t.Fatal("an operation with action \"publish\" validated")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// roots are the Go types the document describes: every request and reply,
// the error body, the event envelope and every event payload. Every struct
// they reach has a schema of its name.
func roots() []reflect.Type {
	ts := []reflect.Type{
		reflect.TypeFor[api.ConversationCommand](), reflect.TypeFor[api.AccountCommand](),
		reflect.TypeFor[api.CommandReply](), reflect.TypeFor[api.PublishPolicy](), reflect.TypeFor[api.PublishReply](),
		reflect.TypeFor[api.RebuildViews](), reflect.TypeFor[api.RebuildReply](), reflect.TypeFor[api.Notification](),
		reflect.TypeFor[api.StatusRequest](),
		reflect.TypeFor[api.ErrorBody](), reflect.TypeFor[events.Event](), reflect.TypeFor[events.CommandRejectedData](),
	}
	for _, q := range asyncapi.Queries {
		ts = append(ts, q.Request, q.Reply)
	}
	for _, info := range events.Registry {
		ts = append(ts, reflect.TypeOf(info.New()).Elem())
	}
	return ts
}

// Every payload schema matches the Go type it describes: the same members,
// each of the JSON type encoding/json writes, the ones it always writes
// required; and the document has no schema of a type that is gone. This
// walks the types on its own (not with asyncapi.Fields), so a generator
// bug cannot hide itself.
func TestSchemasMatchGoTypes(t *testing.T) {
	_, doc := readCommitted(t)
	defs := doc["components"].(map[string]any)["schemas"].(map[string]any)
	seen := map[string]bool{"Headers": true, "EventHeaders": true, "IntakeHeaders": true}
	var check func(reflect.Type)
	check = func(rt reflect.Type) {
		if seen[rt.Name()] {
			return
		}
		seen[rt.Name()] = true
		schema, ok := defs[rt.Name()].(map[string]any)
		if !ok {
			t.Errorf("no schema %s for %s", rt.Name(), rt)
			return
		}
		for _, s := range checkStruct(t, rt, schema) {
			check(s)
		}
	}
	for _, rt := range roots() {
		check(rt)
	}
	for name := range defs {
		if !seen[name] {
			t.Errorf("schema %s describes no type of the contract", name)
		}
	}
}

// member is a struct field as encoding/json sees it.
type member struct {
	typ       reflect.Type
	omitEmpty bool
}

func members(rt reflect.Type, out map[string]member, order *[]string) {
	for _, f := range reflect.VisibleFields(rt) {
		tag := f.Tag.Get("json")
		if f.Anonymous || tag == "-" || !f.IsExported() || len(f.Index) > 1 && !embeddedPath(rt, f.Index) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		out[name] = member{f.Type, opts == "omitempty"}
		*order = append(*order, name)
	}
}

// embeddedPath reports whether every step to a promoted field is an
// untagged embedded struct, which encoding/json flattens.
func embeddedPath(rt reflect.Type, index []int) bool {
	for _, i := range index[:len(index)-1] {
		f := rt.Field(i)
		if !f.Anonymous || f.Tag.Get("json") != "" {
			return false
		}
		rt = f.Type
	}
	return true
}

// checkStruct compares schema with struct type rt and returns the struct
// types its members reach.
func checkStruct(t *testing.T, rt reflect.Type, schema map[string]any) []reflect.Type {
	t.Helper()
	want, order := map[string]member{}, []string{}
	members(rt, want, &order)
	props, _ := schema["properties"].(map[string]any)
	var required []string
	for _, r := range asSlice(schema["required"]) {
		required = append(required, r.(string))
	}
	var wantRequired []string
	for _, name := range order {
		if !want[name].omitEmpty {
			wantRequired = append(wantRequired, name)
		}
	}
	if !slices.Equal(required, wantRequired) {
		t.Errorf("%s: required %v, want %v", rt, required, wantRequired)
	}
	if len(props) != len(want) {
		t.Errorf("%s: schema has %d properties, the type %d", rt, len(props), len(want))
	}
	var reached []reflect.Type
	for name, m := range want {
		p, ok := props[name].(map[string]any)
		if !ok {
			t.Errorf("%s: member %s has no schema", rt, name)
			continue
		}
		if s := checkValue(t, rt.String()+"."+name, m.typ, p); s != nil {
			reached = append(reached, s)
		}
	}
	return reached
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// checkValue compares the schema p of a value with Go type rt, returning
// the struct type it reaches, if any.
func checkValue(t *testing.T, where string, rt reflect.Type, p map[string]any) reflect.Type {
	t.Helper()
	for rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	jsonType := map[reflect.Kind]string{
		reflect.String: "string", reflect.Bool: "boolean", reflect.Slice: "array", reflect.Map: "object",
		reflect.Int: "integer", reflect.Int64: "integer", reflect.Uint64: "integer", reflect.Uint: "integer", reflect.Uint32: "integer",
	}[rt.Kind()]
	switch {
	case rt == timeType:
		jsonType = "string"
	case rt == rawType:
		jsonType = "object"
	case rt.Kind() == reflect.Struct:
		if ref := p["$ref"]; ref != "#/components/schemas/"+rt.Name() {
			t.Errorf("%s: schema %v, want a $ref to %s", where, p, rt.Name())
		}
		return rt
	}
	types := asSlice(p["type"])
	if len(types) == 0 || types[0] != jsonType {
		t.Errorf("%s: schema type %v, want %s (Go %s)", where, p["type"], jsonType, rt)
	}
	switch rt.Kind() {
	case reflect.Slice:
		if rt != rawType {
			return checkValue(t, where+"[]", rt.Elem(), p["items"].(map[string]any))
		}
	case reflect.Map:
		return checkValue(t, where+"{}", rt.Elem(), p["additionalProperties"].(map[string]any))
	}
	return nil
}

func asSlice(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	}
	return []any{v}
}
