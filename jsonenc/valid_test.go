package jsonenc

import (
	"encoding/json"
	"strings"
	"testing"
)

// validCases are inputs on both sides of every rule of the grammar.
var validCases = []string{
	``, ` `, `null`, `nul`, `nulll`, `true`, `false`, `tru`, ` true `, `true false`, `"a"`, `"a`, `"\"`, `"\\"`,
	`"\u00e9"`, `"\u00e"`, `"\u00eg"`, `"\x"`, `"\/\b\f\n\r\t"`, "\"\x1f\"", "\"\x7f\"", "\"\xff\"", `0`, `-0`, `-`, `01`,
	`1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `1e+`, `-1.5e10`, `+1`, `[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`,
	`[1,[2,[3]]]`, `{}`, `{ }`, `{"a":1}`, `{"a" : 1 , "b":[true]}`, `{"a":1,}`, `{a:1}`, `{"a"}`, `{"a":}`,
	`{"a":1 "b":2}`, `{"a":1`, `[`, `]`, `}`, "\t\r\n{}\n", `{"data":{"x":[1,2,{"y":null}]}}`, `"\ud800"`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

func TestValidMatchesEncodingJSON(t *testing.T) {
	for _, c := range validCases {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("Valid(%.40q) = %v, encoding/json.Valid says %v", c, got, want)
		}
	}
}
