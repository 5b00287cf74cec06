package natsconf

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
)

// feedSub subscribes principal to subject and returns the channel of what
// arrives and the channel of the permission violations NATS reports.
func feedSub(t *testing.T, c Config, url, principal, subject string) (msgs chan *nats.Msg, denied chan error) {
	t.Helper()
	cr, err := c.Lookup(principal)
	if err != nil {
		t.Fatal(err)
	}
	denied = make(chan error, 4)
	nc, err := nats.Connect(url, nats.UserInfo(cr.User, cr.Password), nats.CustomInboxPrefix(cr.InboxPrefix),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
				denied <- err
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	msgs = make(chan *nats.Msg, 16)
	if _, err := nc.ChanSubscribe(subject, msgs); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	return msgs, denied
}

// NATS itself holds each feed to its owner: an end user receives its own
// feed and is refused another's; an app's backend receives the feeds of its
// own accounts and is refused another app's.
func TestFeedSubjectsAreEnforcedByNATS(t *testing.T) {
	c, url := startServer(t)
	type want struct {
		principal, subject string
		allowed            bool
	}
	cases := []want{
		{"messenger:bob", api.FeedSubject("messenger:bob"), true},
		{"messenger:bob", api.FeedSubject("messenger:carol"), false},
		{"messenger:bob", api.FeedSubject("instagram:alice"), false},
		{"messenger:bob", api.FeedPrefix + "messenger.>", false},
		{"messenger", api.FeedPrefix + "messenger.*", true},
		{"messenger", api.FeedPrefix + "instagram.*", false},
		{"instagram:alice", api.FeedSubject("instagram:alice"), true},
	}
	type sub struct {
		want
		msgs   chan *nats.Msg
		denied chan error
	}
	var subs []sub
	for _, w := range cases {
		msgs, denied := feedSub(t, c, url, w.principal, w.subject)
		subs = append(subs, sub{w, msgs, denied})
	}
	svc := connectAs(t, c, url, PrincipalService)
	for _, a := range []string{"messenger:bob", "messenger:carol", "instagram:alice"} {
		if err := svc.Publish(api.FeedSubject(a), []byte(`{"n":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		select {
		case m := <-s.msgs:
			if !s.allowed {
				t.Errorf("%s on %s received %s; want refused", s.principal, s.subject, m.Subject)
			}
		case err := <-s.denied:
			if s.allowed {
				t.Errorf("%s on %s: %v; want allowed", s.principal, s.subject, err)
			}
		case <-time.After(2 * time.Second):
			t.Errorf("%s on %s: neither a message nor a refusal", s.principal, s.subject)
		}
	}
}
