package identity

import (
	"errors"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
)

func principal(t *testing.T, header string) Principal {
	t.Helper()
	p, err := FromRequestInfo(header, AdminAccount)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The header nats-server writes decides the kind; the client's connection
// name does not.
func TestFromRequestInfo(t *testing.T) {
	for _, c := range []struct {
		header string
		want   Principal
		name   string
	}{
		{``, Principal{Kind: KindService}, "service"},
		{`{"acc":"instagram","user":"instagram-backend","name":"instagram:alice"}`,
			Principal{Kind: KindApp, Account: "instagram", User: "instagram-backend"}, "instagram/instagram-backend"},
		{`{"acc":"instagram","user":"instagram:alice"}`, Principal{Kind: KindUser, Account: "instagram", User: "instagram:alice"}, "instagram/instagram:alice"},
		{`{"acc":"messenger","user":"instagram:alice"}`, Principal{Kind: KindApp, Account: "messenger", User: "instagram:alice"}, "messenger/instagram:alice"},
		{`{"acc":"ADMIN","user":"admin"}`, Principal{Kind: KindAdmin, Account: "ADMIN", User: "admin"}, "ADMIN/admin"},
	} {
		p := principal(t, c.header)
		if p != c.want || p.String() != c.name {
			t.Errorf("%s: got %+v (%q), want %+v (%q)", c.header, p, p, c.want, c.name)
		}
	}
	if p := principal(t, `{"acc":"instagram","user":"instagram-backend","server":"n1","id":42}`); p.Connection != "n1/42" {
		t.Errorf("connection %q, want n1/42 from the header's server and client id", p.Connection)
	}
	if _, err := FromRequestInfo(`{"user":"x"}`, AdminAccount); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("no account: %v, want ErrNoIdentity", err)
	}
	if _, err := FromRequestInfo(`{`, AdminAccount); err == nil {
		t.Error("malformed header accepted")
	}
}

var (
	app   = Principal{Kind: KindApp, Account: "instagram", User: "instagram-backend"}
	alice = Principal{Kind: KindUser, Account: "instagram", User: "instagram:alice"}
	admin = Principal{Kind: KindAdmin, Account: "ADMIN", User: "admin"}
)

// The matrix of commands: who may send on which subject as which actor.
func TestMayCommand(t *testing.T) {
	for _, c := range []struct {
		p       Principal
		subject events.App
		actor   events.Account
		want    error
	}{
		{app, "instagram", "instagram:alice", nil},
		{app, "instagram", "instagram:zoe", nil},
		{app, "messenger", "messenger:bob", ErrWrongApp},
		{app, "instagram", "messenger:bob", ErrWrongApp},
		{alice, "instagram", "instagram:alice", nil},
		{alice, "instagram", "instagram:zoe", ErrForbidden},
		{alice, "messenger", "messenger:bob", ErrWrongApp},
		{admin, "instagram", "instagram:alice", ErrForbidden},
		{Principal{Kind: KindService}, "instagram", "instagram:alice", ErrForbidden},
		{SelfDeclared, "instagram", "messenger:bob", nil},
	} {
		if err := c.p.MayCommand(c.subject, c.actor); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%v on %s as %s: %v, want %v", c.p, c.subject, c.actor, err, c.want)
		}
	}
}

// Erasing an account: the account itself, its app's backend, the admin;
// no other user, app, or the service.
func TestMayErase(t *testing.T) {
	for _, c := range []struct {
		p       Principal
		subject events.App
		account events.Account
		want    error
	}{
		{alice, "instagram", "instagram:alice", nil},
		{app, "instagram", "instagram:alice", nil},
		{admin, "instagram", "instagram:alice", nil},
		{alice, "instagram", "instagram:zoe", ErrForbidden},
		{app, "messenger", "messenger:bob", ErrWrongApp},
		{app, "instagram", "messenger:bob", ErrWrongApp},
		{Principal{Kind: KindService}, "instagram", "instagram:alice", ErrForbidden},
	} {
		if err := c.p.MayErase(c.subject, c.account); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%v erasing %s on %s: %v, want %v", c.p, c.account, c.subject, err, c.want)
		}
	}
}

// Viewing: an end user only as itself, whatever the body claims; an app
// as its own accounts; a conversation only by a participant.
func TestMayView(t *testing.T) {
	if v := alice.Viewer("messenger:bob"); v != "instagram:alice" {
		t.Errorf("an end user views as itself, got %s", v)
	}
	if v := app.Viewer("instagram:zoe"); v != "instagram:zoe" {
		t.Errorf("an app views as the account it names, got %s", v)
	}
	for _, c := range []struct {
		p    Principal
		as   events.Account
		want error
	}{
		{app, "instagram:zoe", nil},
		{app, "messenger:bob", ErrForbidden},
		{alice, "instagram:alice", nil},
		{alice, "instagram:zoe", ErrForbidden},
		{admin, "instagram:alice", ErrForbidden},
		{SelfDeclared, "messenger:bob", nil},
	} {
		if err := c.p.MayViewAs(c.as); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%v as %s: %v, want %v", c.p, c.as, err, c.want)
		}
	}
	cross := []events.Account{"instagram:alice", "messenger:bob"}
	other := []events.Account{"messenger:bob", "messenger:carol"}
	for _, c := range []struct {
		p     Principal
		parts []events.Account
		ok    bool
	}{
		{alice, cross, true}, {alice, other, false}, {app, cross, true}, {app, other, false},
		{admin, cross, false}, {SelfDeclared, other, true},
	} {
		if err := c.p.MayViewConversation(c.parts); (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrForbidden)) {
			t.Errorf("%v reads %v: %v, want ok=%v", c.p, c.parts, err, c.ok)
		}
	}
}

func TestMayAdmin(t *testing.T) {
	for p, ok := range map[Principal]bool{admin: true, {Kind: KindService}: true, SelfDeclared: true, app: false, alice: false} {
		if err := p.MayAdmin(); (err == nil) != ok {
			t.Errorf("%v: %v, want ok=%v", p, err, ok)
		}
	}
}
