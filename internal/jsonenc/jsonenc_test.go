package jsonenc

import (
	"encoding/json"
	"testing"
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
		checkSound(t, c.s)
	}
}

func FuzzPlain(f *testing.F) {
	f.Add("hello")
	f.Add("<&>")
	f.Fuzz(checkSound)
}

// checkSound fails if Plain(s) but json.Marshal writes more than quotes.
func checkSound(t *testing.T, s string) {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if Plain(s) && string(b) != `"`+s+`"` {
		t.Errorf("Plain(%q), but json.Marshal writes %s", s, b)
	}
}
