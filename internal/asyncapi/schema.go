package asyncapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
)

// Field is one JSON member of a struct as encoding/json writes it.
type Field struct {
	// Name is the member's name (the json tag's, else the Go field's).
	Name string
	// Type is the Go type of the field.
	Type reflect.Type
	// OmitEmpty is set when encoding/json leaves the member out when empty:
	// every other member is always written, and so required.
	OmitEmpty bool
}

// Fields lists t's JSON members in encoding order: exported fields, those
// of embedded structs in their place, none tagged "-".
func Fields(t reflect.Type) []Field {
	var out []Field
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("json")
		name, opts, _ := cut(tag)
		switch {
		case tag == "-" || !f.IsExported() && !f.Anonymous:
			continue
		case f.Anonymous && !hasTag && f.Type.Kind() == reflect.Struct:
			out = append(out, Fields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, Field{Name: name, Type: f.Type, OmitEmpty: opts == "omitempty"})
	}
	return out
}

func cut(tag string) (name, opts string, ok bool) {
	for i := range len(tag) {
		if tag[i] == ',' {
			return tag[:i], tag[i+1:], true
		}
	}
	return tag, "", false
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	rawType      = reflect.TypeFor[json.RawMessage]()
	positionType = reflect.TypeFor[api.Position]()
)

// schemas collects the named schemas of components.schemas, one per Go
// struct type, named by the type.
type schemas struct {
	defs  map[string]any
	types map[string]reflect.Type
}

func newSchemas() *schemas {
	return &schemas{defs: map[string]any{}, types: map[string]reflect.Type{}}
}

// ref returns a reference to the schema of struct type t, defining it on
// first use.
func (s *schemas) ref(t reflect.Type) map[string]any {
	name := t.Name()
	if prev, ok := s.types[name]; ok {
		if prev != t {
			panic(fmt.Sprintf("asyncapi: two types named %s: %s and %s", name, prev, t))
		}
		return refTo("#/components/schemas/" + name)
	}
	s.types[name] = t
	s.defs[name] = s.object(t)
	return refTo("#/components/schemas/" + name)
}

// object is the schema of struct type t: its members, and as required
// those encoding/json always writes.
func (s *schemas) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	required := []string{}
	for _, f := range Fields(t) {
		props[f.Name] = s.of(f.Type, f.OmitEmpty)
		if !f.OmitEmpty {
			required = append(required, f.Name)
		}
	}
	o := map[string]any{"type": "object", "properties": props, "x-go-type": t.String()}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// of is the schema of a value of type t. A member that is not omitempty
// and whose nil encodes as null (slice, map, pointer) may be null.
func (s *schemas) of(t reflect.Type, omitEmpty bool) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{"type": "object"}
	case t == positionType:
		// Opaque to producers; the pattern only says what a reply gives.
		return map[string]any{"type": "string", "pattern": `^v1(\.[0-9]+)+$`,
			"description": "a position in the log (docs/contract.md, Positions): from a command reply, for a query's after"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Struct:
		return s.ref(t)
	case reflect.Pointer:
		return nullable(s.of(t.Elem(), false), omitEmpty)
	case reflect.Slice:
		return nullable(map[string]any{"type": "array", "items": s.of(t.Elem(), false)}, omitEmpty)
	case reflect.Map:
		return nullable(map[string]any{"type": "object", "additionalProperties": s.of(t.Elem(), false)}, omitEmpty)
	}
	panic(fmt.Sprintf("asyncapi: no schema for %s", t))
}

// nullable lets schema be null too, unless the member is omitempty (nil is
// then left out, never written as null).
func nullable(schema map[string]any, omitEmpty bool) map[string]any {
	if omitEmpty {
		return schema
	}
	if t, ok := schema["type"].(string); ok {
		schema["type"] = []string{t, "null"}
		return schema
	}
	return map[string]any{"oneOf": []any{schema, map[string]any{"type": "null"}}}
}

func refTo(path string) map[string]any { return map[string]any{"$ref": path} }
