// Package codec turns the bytes of crosstalk's requests into values and
// its replies into bytes: it decodes command and query bodies strictly
// (unknown fields, field names in another case, trailing data and invalid
// UTF-8 refused with a sentence a producer can act on), decodes the plain
// bodies producers send without reflection, builds the domain command of
// each action, and encodes command replies without reflection.
//
// It is a package of its own, top level beside service, rather than part
// of api: api is the wire contract that clients link, standard library
// only, while decoding a command yields an aggregate command. It imports
// no NATS, no Pebble and not service, which calls it; its hand-written
// JSON primitives are jsonenc's.
package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// ErrBadRequest reports a request body that is not the endpoint's JSON.
var ErrBadRequest = errors.New("bad request")

// BadRequest returns an error wrapping ErrBadRequest that says, in a
// sentence made of format and args, what was wrong.
func BadRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}

// Decode decodes one JSON object into v, a pointer to a request struct,
// refusing unknown fields, field names in another case, trailing data and
// invalid UTF-8 with an error wrapping ErrBadRequest.
func Decode(body []byte, v any) error {
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return BadRequest("the request body is empty; send a JSON object")
	}
	if !utf8.Valid(body) {
		return BadRequest("the request body is not valid UTF-8")
	}
	if json.Valid(body) {
		if err := exactFieldNames(body, v); err != nil {
			return err
		}
		if r, ok := v.(*convRequest); ok && r.decodePlain(body) {
			return nil
		}
		if fieldsOf(reflect.TypeOf(v).Elem()).flat {
			// One valid JSON value whose keys are all v's own, exactly, in
			// a type with no nested objects: nothing is left for the
			// decoder's unknown-field and trailing-data checks to find.
			if err := json.Unmarshal(body, v); err != nil {
				return BadRequest("%s", describeJSONError(err))
			}
			return nil
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return BadRequest("%s", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return BadRequest("unexpected data after the JSON object")
	}
	return nil
}

func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return fmt.Sprintf("the request must be a JSON object, not a JSON %s", typeErr.Value)
		}
		// Since Go 1.20 the path names embedded structs too
		// (commandEnvelope.command_id); the producer knows only the field.
		field := typeErr.Field[strings.LastIndex(typeErr.Field, ".")+1:]
		return fmt.Sprintf("field %q must be a %s, not a JSON %s", field, jsonKind(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: the object is cut short"
	}
	return "malformed request: " + err.Error()
}

func jsonKind(goType string) string {
	switch goType {
	case "string", "api.Position":
		return "string"
	case "bool", "*bool":
		return "boolean"
	case "[]string":
		return "list of strings"
	}
	return "whole number of at least 0"
}
