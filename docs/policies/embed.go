// Package policies ships crosstalk's seed policy files, the same bytes that
// live beside this file for operators to read and publish, embedded for the
// demo and the tests.
package policies

import "embed"

// Files holds every *.json policy of this directory.
//
//go:embed *.json
var Files embed.FS

// Read returns the bytes of one shipped policy file, e.g.
// "v2-2023-12-cross-app-disconnect.json".
func Read(name string) ([]byte, error) { return Files.ReadFile(name) }
