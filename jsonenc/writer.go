package jsonenc

import (
	"strconv"
	"time"
)

// Writer appends a record's JSON for the encoders that write only plain
// strings by hand (ids, accounts, ASCII texts) and leave anything else to
// encoding/json: it fails at the first string that is not Plain or time
// that Time.MarshalJSON refuses, and Bytes then reports false so that the
// caller marshals the record instead. The zero Writer appends to nil.
type Writer struct {
	b      []byte
	failed bool
}

// NewWriter returns a Writer that appends to b.
func NewWriter(b []byte) Writer { return Writer{b: b} }

// Bytes returns what was written; ok is false if a value could not be
// written exactly as encoding/json writes it.
func (w *Writer) Bytes() (_ []byte, ok bool) { return w.b, !w.failed }

// Raw appends s as it is: names, punctuation, literals.
func (w *Writer) Raw(s string) *Writer { w.b = append(w.b, s...); return w }

// Str appends s quoted, if it is Plain; otherwise the Writer fails.
func (w *Writer) Str(s string) *Writer {
	if !Plain(s) {
		w.failed = true
		return w
	}
	w.b = append(append(append(w.b, '"'), s...), '"')
	return w
}

// Opt appends name and s unless s is empty (omitempty).
func (w *Writer) Opt(name, s string) *Writer {
	if s != "" {
		w.Raw(name).Str(s)
	}
	return w
}

// Bool appends true or false.
func (w *Writer) Bool(v bool) *Writer { w.b = strconv.AppendBool(w.b, v); return w }

// OptBool appends name and *v unless v is nil (omitempty).
func (w *Writer) OptBool(name string, v *bool) *Writer {
	if v != nil {
		w.Raw(name).Bool(*v)
	}
	return w
}

// Uint appends n in decimal.
func (w *Writer) Uint(n uint64) *Writer { w.b = strconv.AppendUint(w.b, n, 10); return w }

// Int appends n in decimal.
func (w *Writer) Int(n int64) *Writer { w.b = strconv.AppendInt(w.b, n, 10); return w }

// Time appends t as Time.MarshalJSON writes it, or fails.
func (w *Writer) Time(t time.Time) *Writer {
	var ok bool
	if w.b, ok = AppendTime(w.b, t); !ok {
		w.failed = true
	}
	return w
}

// Strs appends a list of strings; nil is null, as encoding/json writes it.
func Strs[T ~string](w *Writer, xs []T) *Writer {
	if xs == nil {
		return w.Raw("null")
	}
	w.Raw("[")
	for i, x := range xs {
		if i > 0 {
			w.Raw(",")
		}
		w.Str(string(x))
	}
	return w.Raw("]")
}
