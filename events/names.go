// Package events is the vocabulary of crosstalk: the event types, their
// CloudEvents 1.0 envelope and JSON codec, the names of apps and accounts,
// the NATS subjects events are stored under, and the per-subject hash chain.
//
// It is the bottom of the dependency graph: it imports only the standard
// library and uuid, so that the domain (package aggregate) and every adapter
// share one definition of what an event is.
package events

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ErrInvalidName reports an app or account name that does not match the
// contract's grammar.
var ErrInvalidName = errors.New("invalid name")

var (
	appPattern    = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)
	handlePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// App names a chat application, such as "instagram" or "thirdparty-birdychat".
type App string

// Validate reports whether the app name matches ^[a-z][a-z0-9-]{1,31}$.
func (a App) Validate() error {
	if !validApp(string(a)) {
		return fmt.Errorf("%w: app %s must match %s", ErrInvalidName, Quote(string(a)), appPattern)
	}
	return nil
}

// Account names a user of one app, written "<app>:<handle>".
type Account string

// ParseAccount validates s and returns it as an Account.
func ParseAccount(s string) (Account, error) {
	app, handle, ok := strings.Cut(s, ":")
	if !ok {
		return "", fmt.Errorf("%w: account %s must be <app>:<handle>", ErrInvalidName, Quote(s))
	}
	if err := App(app).Validate(); err != nil {
		return "", fmt.Errorf("%w: account %s has a bad app part", ErrInvalidName, Quote(s))
	}
	if !validHandle(handle) {
		return "", fmt.Errorf("%w: account %s: handle must match %s", ErrInvalidName, Quote(s), handlePattern)
	}
	return Account(s), nil
}

// validApp is appPattern.MatchString without the regexp engine, which cost
// more than the rest of reading a command's subject.
func validApp(s string) bool {
	if len(s) < 2 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validHandle is handlePattern.MatchString without the regexp engine.
func validHandle(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// App returns the app part of the account, the text before the colon.
func (a Account) App() App {
	app, _, _ := strings.Cut(string(a), ":")
	return App(app)
}

// Handle returns the handle part of the account, the text after the colon.
func (a Account) Handle() string {
	_, h, _ := strings.Cut(string(a), ":")
	return h
}

// AccountsOf converts account names as the wire carries them (plain
// strings, package api) to Accounts, without checking them; nil stays nil.
func AccountsOf(list []string) []Account {
	if list == nil {
		return nil
	}
	out := make([]Account, len(list))
	for i, a := range list {
		out[i] = Account(a)
	}
	return out
}

// AppsOf returns the distinct apps of accounts, in order of first
// appearance: a conversation is cross-app when it has more than one.
func AppsOf(accounts []Account) []App {
	var apps []App
	for _, a := range accounts {
		if app := a.App(); !slices.Contains(apps, app) {
			apps = append(apps, app)
		}
	}
	return apps
}
