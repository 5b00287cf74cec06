package jsonenc

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"
	"unicode/utf8"
)

// Plain is true only where json.Marshal adds nothing but the quotes, and
// true for the ids, accounts and ASCII texts the encoders write most.
// (It is false for some strings json.Marshal also leaves alone, such as
// non-ASCII text: those take the encoders' slower path, which is correct.)
func TestPlainIsWhatMarshalLeavesAlone(t *testing.T) {
	for _, c := range []struct {
		s     string
		plain bool
	}{
		{"", true}, {"hi Bob", true}, {"instagram:alice", true}, {"0174e43f-7c80-7f5d-9aef-d5250aa95cdf", true}, {"~", true},
		{"a\"b", false}, {`a\b`, false}, {"<b>", false}, {"a&b", false}, {"tab\t", false}, {"é", false}, {"\x7f", false},
	} {
		if got := Plain(c.s); got != c.plain {
			t.Errorf("Plain(%q) = %v, want %v", c.s, got, c.plain)
		}
		checkStrings(t, c.s)
	}
}

// FuzzPrimitives is the one harness that holds every primitive of the
// package to encoding/json: the string writers (Plain, AppendString,
// AppendField, Writer), the time writer, CompactEscaped, and the scanners
// (Scanner over a flat object, EachKey over any object) and the validity
// check Valid.
func FuzzPrimitives(f *testing.F) {
	for _, c := range validCases {
		f.Add("", []byte(c), int64(0))
	}
	f.Add("hello", []byte(`{"a":"b","c":["d","e"],"f":null}`), int64(0))
	f.Add("<&>\u2028\xff\x00\"\\é", []byte(` { "a" : [ "b" ] , "x":{"y":[1,{"z":"}"}]},"t":"\""} `), int64(-1<<62))
	f.Add("", []byte(`{"k\u0061":"v","a":"<b> & \u2029"}`), int64(1<<62))
	f.Add("tab\t", []byte(`[1, 2]`), int64(45296))
	f.Fuzz(func(t *testing.T, s string, raw []byte, nanos int64) {
		checkStrings(t, s)
		checkTime(t, time.Unix(0, nanos).In(time.FixedZone("z", int(nanos%(100*3600)))))
		checkCompact(t, raw)
		if got, want := Valid(raw), json.Valid(raw); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json.Valid says %v", raw, got, want)
		}
		if json.Valid(raw) && utf8.Valid(raw) { // as request bodies are checked first
			checkScanner(t, raw)
			checkEachKey(t, raw)
		}
	})
}

// checkStrings fails where a string writer differs from json.Marshal.
func checkStrings(t *testing.T, s string) {
	t.Helper()
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if Plain(s) && string(want) != `"`+s+`"` {
		t.Errorf("Plain(%q), but json.Marshal writes %s", s, want)
	}
	if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
		t.Errorf("AppendString(%q) = %s, json.Marshal %s", s, got[1:], want)
	}
	if got := AppendField(nil, `{"k":`, s); string(got) != `{"k":`+string(want) {
		t.Errorf("AppendField(%q) = %s, json.Marshal %s", s, got, want)
	}
	w := NewWriter(nil)
	if got, ok := Strs(w.Raw(`{"l":`), []string{s, s}).Opt(`,"o":`, s).Raw("}").Bytes(); ok {
		var back struct {
			L []string `json:"l"`
			O string   `json:"o,omitempty"`
		}
		back.O, back.L = s, []string{s, s}
		if want, _ := json.Marshal(back); !bytes.Equal(got, want) {
			t.Errorf("Writer wrote %s, json.Marshal %s", got, want)
		}
	} else if Plain(s) {
		t.Errorf("Writer failed on the plain string %q", s)
	}
}

// checkTime fails where AppendTime or Writer.Time differs from
// Time.MarshalJSON, or accepts a time it refuses.
func checkTime(t *testing.T, at time.Time) {
	t.Helper()
	want, err := at.MarshalJSON()
	got, ok := AppendTime(nil, at)
	if ok != (err == nil) || ok && !bytes.Equal(got, want) {
		t.Errorf("AppendTime(%v) = %s, %v; MarshalJSON = %s, %v", at, got, ok, want, err)
	}
	w := NewWriter(nil)
	if wrote, ok := w.Time(at).Bytes(); ok != (err == nil) || ok && !bytes.Equal(wrote, want) {
		t.Errorf("Writer.Time(%v) = %s, %v; MarshalJSON = %s, %v", at, wrote, ok, want, err)
	}
}

// checkCompact fails where CompactEscaped passes valid JSON that
// encoding/json writes otherwise as a json.RawMessage.
func checkCompact(t *testing.T, raw []byte) {
	t.Helper()
	if !json.Valid(raw) || !CompactEscaped(raw) {
		return
	}
	if got, err := json.Marshal(json.RawMessage(raw)); err != nil || !bytes.Equal(got, raw) {
		t.Errorf("CompactEscaped(%s), but json.Marshal writes %s, %v", raw, got, err)
	}
}

// checkScanner reads raw as a flat object of null, strings and lists of
// strings; where the Scanner reads it all, encoding/json must read the same.
func checkScanner(t *testing.T, raw []byte) {
	t.Helper()
	got, ok := scanFlat(raw)
	if !ok {
		return
	}
	var want map[string]any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("Scanner read %s, json.Unmarshal: %v", raw, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Scanner read %s as %#v, json.Unmarshal as %#v", raw, got, want)
	}
}

// scanFlat is the loop a flat request decoder runs over a Scanner.
func scanFlat(raw []byte) (map[string]any, bool) {
	p, out := NewScanner(raw), map[string]any{}
	if !p.Byte('{') {
		return nil, false
	}
	for !p.Byte('}') {
		p.Byte(',')
		key, ok := p.Text()
		if !ok || !p.Byte(':') {
			return nil, false
		}
		if p.Null() {
			out[key] = nil
		} else if s, ok := p.Text(); ok {
			out[key] = s
		} else if list, ok := p.Texts(); ok {
			out[key] = toAny(list)
		} else {
			return nil, false
		}
	}
	return out, true
}

func toAny(list []string) []any {
	out := []any{}
	for _, s := range list {
		out = append(out, s)
	}
	return out
}

// checkEachKey fails where EachKey names other top-level keys, in another
// order, than encoding/json's decoder finds; where it stops at a key with
// an escape, the keys before it must be the decoder's first ones.
func checkEachKey(t *testing.T, raw []byte) {
	t.Helper()
	var got []string
	plain, _ := EachKey(raw, func(k []byte) error { got = append(got, string(k)); return nil })
	want := topLevelKeys(t, raw)
	if plain && !slices.Equal(got, want) || !plain && (len(got) >= len(want) || !slices.Equal(got, want[:len(got)])) {
		t.Errorf("EachKey(%s) = %q (plain %v), the decoder %q", raw, got, plain, want)
	}
}

// topLevelKeys lists the keys of raw's top-level object, in order, as
// json.Decoder reads them; nil if raw is not an object.
func topLevelKeys(t *testing.T, raw []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("keys of %s: %v", raw, err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("values of %s: %v", raw, err)
		}
	}
	return keys
}
