// Package jsonout prints a command's result as indented JSON (--json).
package jsonout

import (
	"encoding/json"
	"io"
)

// Write writes v to w as indented JSON, one value and a newline.
func Write(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
