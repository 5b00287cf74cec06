package codec

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/jsonenc"
)

// exactFieldNames refuses a field whose name matches one of v's only when
// case is ignored ("Text" for "text"): encoding/json would accept it, and a
// producer's typo must not pass. body is valid JSON; if it is not an object
// it is left to the decoder's own error.
func exactFieldNames(body []byte, v any) error {
	known := fieldsOf(reflect.TypeOf(v).Elem()).names
	check := func(name []byte) error {
		if !known[string(name)] {
			return BadRequest("unknown field %s (field names are lower case, as in the contract)", events.Quote(string(name)))
		}
		return nil
	}
	plain, err := jsonenc.EachKey(body, check)
	if plain {
		return err
	}
	// A key with escapes: let encoding/json unescape them.
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return nil
	}
	for name := range fields {
		if err := check([]byte(name)); err != nil {
			return err
		}
	}
	return nil
}

// requestFields is what Decode needs to know of a request type.
type requestFields struct {
	names map[string]bool // its JSON field names, embedded structs' included
	flat  bool            // no field holds an object (a struct, map or interface)
}

// fieldsByType caches requestFields per request type (reflect.Type keys).
var fieldsByType sync.Map

// fieldsOf returns the requestFields of struct type t, computed once.
func fieldsOf(t reflect.Type) requestFields {
	if f, ok := fieldsByType.Load(t); ok {
		return f.(requestFields)
	}
	f := requestFields{names: map[string]bool{}, flat: true}
	f.add(t)
	fieldsByType.Store(t, f)
	return f
}

func (rf *requestFields) add(t reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			rf.add(f.Type)
			continue
		}
		if !f.IsExported() {
			// The decoder never sets it: a query's parsed fields and its
			// principal do not make the request nested.
			continue
		}
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" {
			rf.names[tag] = true
		}
		rf.flat = rf.flat && !holdsObject(f.Type)
	}
}

// holdsObject reports whether a value of t can hold a JSON object, in whose
// keys the decoder would look for unknown fields too.
func holdsObject(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Interface:
		return true
	}
	return false
}
