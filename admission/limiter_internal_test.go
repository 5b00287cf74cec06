package admission

import (
	"testing"

	"github.com/crosstalk-dev/crosstalk/identity"
)

// A request counts against its connection, known by the reply's inbox
// prefix; an authenticated end user's connections share one share, while
// an app backend's many connections under one principal are counted apart
// (else 32 busy connections of one app would be refused at a quarter of the
// service's limit).
func TestConnectionOf(t *testing.T) {
	app := identity.Principal{Kind: identity.KindApp, Account: "alpha", User: "alpha-backend"}
	user := identity.Principal{Kind: identity.KindUser, Account: "alpha", User: "alpha:ann"}
	for _, c := range []struct {
		p      identity.Principal
		r1, r2 string
		same   bool
	}{
		{identity.SelfDeclared, "_INBOX.aaa.1", "_INBOX.aaa.2", true},
		{identity.SelfDeclared, "_INBOX.aaa.1", "_INBOX.bbb.1", false},
		{app, "_INBOX.aaa.1", "_INBOX.bbb.1", false},
		{app, "_INBOX.aaa.1", "_INBOX.aaa.9", true},
		// Across a service import the reply is _R_.<account's>.<token>
		// whatever the connection; the header's connection counts.
		{withConn(app, "s1/7"), "_R_.abc.1", "_R_.abc.2", true},
		{user, "_INBOX.aaa.1", "_INBOX.bbb.1", true},
	} {
		if got := ConnectionOf(c.p, c.r1) == ConnectionOf(c.p, c.r2); got != c.same {
			t.Errorf("%v: %s and %s counted together = %v, want %v", c.p, c.r1, c.r2, got, c.same)
		}
	}
	if ConnectionOf(withConn(app, "s1/7"), "_R_.abc.1") == ConnectionOf(withConn(app, "s1/8"), "_R_.abc.1") {
		t.Error("two connections of one app behind an import are counted together")
	}
}

func withConn(p identity.Principal, conn string) identity.Principal {
	p.Connection = conn
	return p
}
