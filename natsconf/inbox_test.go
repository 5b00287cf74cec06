package natsconf

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// errorsOf connects as principal with opts after its user and password and
// returns the connection and the channel of its asynchronous errors.
func errorsOf(t *testing.T, c Config, url, principal string, opts ...nats.Option) (*nats.Conn, chan error) {
	t.Helper()
	cr, err := c.Lookup(principal)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	opts = append([]nats.Option{nats.UserInfo(cr.User, cr.Password),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default:
			}
		})}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect as %s: %v", principal, err)
	}
	t.Cleanup(nc.Close)
	return nc, errs
}

// subscribeRefused subscribes nc to subject and expects NATS's permissions
// violation naming it.
func subscribeRefused(t *testing.T, nc *nats.Conn, errs chan error, subject string) *nats.Subscription {
	t.Helper()
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), `Subscription to "`+subject+`"`) {
			t.Errorf("subscribe to %s: %v, want a permissions violation", subject, err)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("the subscription to %s was not refused", subject)
	}
	return sub
}

// Each principal may subscribe for replies only under its own inbox
// prefix: NATS refuses messenger:bob every reply of his account
// (_INBOX.>) and his app's backend's replies, and answers his requests on
// his own prefix, not on nats.go's default one (issue 21, finding 2).
func TestInboxesArePrivate(t *testing.T) {
	c, url := startServer(t)
	echoIdentity(t, connectAs(t, c, url, PrincipalService))
	backend, _ := c.Lookup("messenger")

	bob, errs := errorsOf(t, c, url, "messenger:bob", nats.CustomInboxPrefix("_INBOX.user.messenger.bob"))
	subscribeRefused(t, bob, errs, "_INBOX.>")
	subscribeRefused(t, bob, errs, backend.InboxPrefix+".>")
	subscribeRefused(t, bob, errs, "_INBOX.user.instagram.alice.>")
	if r, err := bob.Request("crosstalk.query.inbox", nil, 2*time.Second); err != nil || string(r.Data) != "user messenger/messenger:bob" {
		t.Errorf("bob's request on his own prefix: %v %q", err, replyOf(r))
	}

	plain, plainErrs := errorsOf(t, c, url, "messenger:bob")
	if _, err := plain.Request("crosstalk.query.inbox", nil, 500*time.Millisecond); err == nil {
		t.Error("a request on the default _INBOX prefix was answered")
	}
	select {
	case err := <-plainErrs:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("the default prefix: %v, want a permissions violation", err)
		}
	case <-time.After(2 * time.Second):
		t.Error("the subscription to the default _INBOX prefix was not refused")
	}
}

// The Messenger backend's reply no longer reaches messenger:bob, subscribed
// to every inbox of his account: with the old `_INBOX.>` permission he
// received it (issue 21, finding 2).
func TestAnotherPrincipalsReplyDoesNotReachBob(t *testing.T) {
	c, url := startServer(t)
	echoIdentity(t, connectAs(t, c, url, PrincipalService))

	bob, errs := errorsOf(t, c, url, "messenger:bob", nats.CustomInboxPrefix("_INBOX.user.messenger.bob"))
	sub, err := bob.SubscribeSync("_INBOX.>")
	if err != nil {
		t.Fatal(err)
	}
	_ = bob.Flush()
	backend := connectAs(t, c, url, "messenger")
	if r, err := backend.Request("crosstalk.query.inbox", []byte(`{"account":"messenger:carol"}`), 2*time.Second); err != nil ||
		string(r.Data) != "app messenger/messenger-backend" {
		t.Fatalf("the backend's query: %v %q", err, replyOf(r))
	}
	if m, err := sub.NextMsg(300 * time.Millisecond); err == nil {
		t.Fatalf("bob received the backend's reply on %s: %q", m.Subject, m.Data)
	}
	if len(errs) == 0 {
		t.Error("bob's _INBOX.> subscription was not refused")
	}
}
