package aggregate

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/crosstalk-dev/crosstalk/events"
)

// This file is the small language of the data-driven tests (testdata/*):
// lines of the form `verb key=value ...`, where a value is a bare token, a
// Go-quoted string (optionally repeated: "a"*4096), or a list (a, b, c).
// Output is formatted in format_test.go.

type line struct {
	verb string
	args map[string][]string
	used map[string]bool
	err  error
}

func parseLine(s string) (*line, error) {
	verb, rest, _ := strings.Cut(strings.TrimSpace(s), " ")
	l := &line{verb: verb, args: map[string][]string{}, used: map[string]bool{}}
	rest = strings.TrimSpace(rest)
	for rest != "" {
		key, after, ok := strings.Cut(rest, "=")
		if !ok || key == "" || strings.ContainsAny(key, " (\"") {
			return nil, fmt.Errorf("want key=value at %q", rest)
		}
		vals, tail, err := parseValue(after)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		l.args[key] = vals
		rest = strings.TrimSpace(tail)
	}
	return l, nil
}

func parseValue(s string) ([]string, string, error) {
	switch {
	case strings.HasPrefix(s, "("):
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return nil, "", errors.New("unclosed list")
		}
		var vals []string
		for _, v := range strings.Split(s[1:end], ",") {
			if v = strings.TrimSpace(v); v != "" {
				vals = append(vals, v)
			}
		}
		return vals, s[end+1:], nil
	case strings.HasPrefix(s, `"`):
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, "", err
		}
		v, _ := strconv.Unquote(q)
		rest := s[len(q):]
		if strings.HasPrefix(rest, "*") {
			num, tail, _ := strings.Cut(rest[1:], " ")
			n, err := strconv.Atoi(num)
			if err != nil {
				return nil, "", fmt.Errorf("repeat count: %w", err)
			}
			v, rest = strings.Repeat(v, n), tail
		}
		return []string{v}, rest, nil
	}
	tok, rest, _ := strings.Cut(s, " ")
	return []string{tok}, rest, nil
}

func (l *line) has(key string) bool {
	_, ok := l.args[key]
	return ok
}

func (l *line) list(key string) []string {
	l.used[key] = true
	return l.args[key]
}

func (l *line) str(key, def string) string {
	vals, ok := l.args[key]
	l.used[key] = true
	if !ok {
		return def
	}
	if len(vals) != 1 {
		l.fail("%s: want one value, got %d", key, len(vals))
		return def
	}
	return vals[0]
}

// optBool returns nil when key is absent.
func (l *line) optBool(key string) *bool {
	if !l.has(key) {
		return nil
	}
	b, err := strconv.ParseBool(l.str(key, ""))
	if err != nil {
		l.fail("%s: %v", key, err)
	}
	return &b
}

func (l *line) uint(key string, def uint64) uint64 {
	if !l.has(key) {
		return def
	}
	n, err := strconv.ParseUint(l.str(key, ""), 10, 64)
	if err != nil {
		l.fail("%s: %v", key, err)
	}
	return n
}

func (l *line) fail(format string, args ...any) {
	if l.err == nil {
		l.err = fmt.Errorf("%s: "+format, append([]any{l.verb}, args...)...)
	}
}

// check reports the first problem met while reading the line, including
// keys that no handler read (a typo must not pass silently).
func (l *line) check() error {
	if l.err != nil {
		return l.err
	}
	for k := range l.args {
		if !l.used[k] {
			return fmt.Errorf("%s: unknown key %q", l.verb, k)
		}
	}
	return nil
}

func accounts(vals []string) []events.Account {
	out := make([]events.Account, len(vals))
	for i, v := range vals {
		out[i] = events.Account(v)
	}
	return out
}

// aliases maps short names used in testdata (m1, c1, k1, cmd) to UUIDs and
// back, so that scenarios stay readable and outputs stable.
type aliases struct {
	ids   map[string]string // name -> uuid
	names map[string]string // uuid -> name
}

var aliasPattern = regexp.MustCompile(`^([mck][0-9]+|cmd)$`)

func newAliases() *aliases {
	return &aliases{ids: map[string]string{}, names: map[string]string{}}
}

// id returns the UUID for an alias; anything else (including "") is
// returned unchanged, so tests can pass literal bad ids.
func (a *aliases) id(name string) string {
	if !aliasPattern.MatchString(name) {
		return name
	}
	if u, ok := a.ids[name]; ok {
		return u
	}
	u := fmt.Sprintf("00000000-0000-7000-8000-%012d", len(a.ids)+1)
	a.add(name, u)
	return u
}

func (a *aliases) add(name, id string) {
	a.ids[name], a.names[id] = id, name
}

func (a *aliases) replace(s string) string {
	ids := make([]string, 0, len(a.names))
	for id := range a.names {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var pairs []string
	for _, id := range ids {
		pairs = append(pairs, id, a.names[id])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}
