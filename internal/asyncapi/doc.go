// Package asyncapi builds docs/asyncapi.yaml, crosstalk's contract as an
// AsyncAPI 3.0 document, from the Go types that are the contract (package
// api for subjects, requests, replies and errors; package events for the
// events and their envelope). Generating it from the types is what keeps it
// true: its tests check that the committed document is what Document makes,
// that it is valid AsyncAPI 3.0, and that every payload schema matches its
// Go type; service's tests check that it names every subject the service
// registers.
//
// The document is written as JSON, which is YAML too (YAML 1.2 is a
// superset of JSON), behind a comment line: no YAML library is needed to
// write it, to read it back, or to validate it as the JSON-schema validator
// wants, and AsyncAPI tools read it as YAML.
package asyncapi

//go:generate go run ./gen -o ../../docs/asyncapi.yaml
