package events

import (
	"errors"
	"strings"
	"testing"
)

func TestAppValidate(t *testing.T) {
	for app, ok := range map[App]bool{
		"instagram":                        true,
		"messenger":                        true,
		"thirdparty-birdy":                 true,
		"ab":                               true,
		"a-":                               true,
		"a1":                               true,
		App("a" + strings.Repeat("b", 31)): true, // 32 characters
		App("a" + strings.Repeat("b", 32)): false,
		"":                                 false,
		"a":                                false,
		"-ab":                              false,
		"1ab":                              false,
		"Instagram":                        false,
		"insta gram":                       false,
		"insta_gram":                       false,
		"insta.gram":                       false,
		"instagram\n":                      false,
		"instagrå":                         false,
	} {
		err := app.Validate()
		if (err == nil) != ok {
			t.Errorf("App(%q).Validate() = %v, want ok=%t", app, err, ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("App(%q).Validate() = %v, not ErrInvalidName", app, err)
		}
	}
}

func TestParseAccount(t *testing.T) {
	for s, ok := range map[string]bool{
		"instagram:alice":                        true,
		"messenger:bob":                          true,
		"thirdparty-birdy:Eve_1-x":               true,
		"ab:x":                                   true,
		"instagram:" + strings.Repeat("h", 64):   true,
		"instagram:" + strings.Repeat("h", 65):   false,
		"a" + strings.Repeat("b", 31) + ":alice": true,
		"a" + strings.Repeat("b", 32) + ":alice": false,
		"":                                       false,
		"alice":                                  false,
		":alice":                                 false,
		"instagram:":                             false,
		"Instagram:alice":                        false,
		"a:alice":                                false,
		"insta_gram:alice":                       false,
		"instagram:al ice":                       false,
		"instagram:al.ice":                       false,
		"instagram:alice:x":                      false,
		"instagram:alice\n":                      false,
		"instagram:élan":                         false,
	} {
		a, err := ParseAccount(s)
		if (err == nil) != ok {
			t.Errorf("ParseAccount(%q) = %v, want ok=%t", s, err, ok)
			continue
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("ParseAccount(%q) = %v, not ErrInvalidName", s, err)
		}
		if ok && string(a) != s {
			t.Errorf("ParseAccount(%q) = %q", s, a)
		}
	}
}

func TestAccountParts(t *testing.T) {
	a := Account("thirdparty-birdy:Eve_1")
	if a.App() != "thirdparty-birdy" || a.Handle() != "Eve_1" {
		t.Errorf("App, Handle = %q, %q", a.App(), a.Handle())
	}
}

// FuzzNamePatterns holds the hand-written matchers to the contract's
// patterns, which the error messages still quote.
func FuzzNamePatterns(f *testing.F) {
	for _, s := range []string{"", "a", "ab", "instagram", "thirdparty-birdychat", "Ab", "a_b", "1a", "a-",
		strings.Repeat("a", 32), strings.Repeat("a", 33), strings.Repeat("Z", 64), strings.Repeat("_", 65), "a\n", "é", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validApp(s), appPattern.MatchString(s); got != want {
			t.Errorf("validApp(%q) = %t, appPattern says %t", s, got, want)
		}
		if got, want := validHandle(s), handlePattern.MatchString(s); got != want {
			t.Errorf("validHandle(%q) = %t, handlePattern says %t", s, got, want)
		}
	})
}
