package service_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

const (
	msCarol = events.Account("messenger:carol")
	msDave  = events.Account("messenger:dave")
)

// The Messenger backend reads messenger:carol's inbox; messenger:bob,
// asking NATS for every reply of his app's account (_INBOX.>), is refused
// and receives nothing of it. Under the configuration before issue 21 he
// received Carol's whole inbox (finding 2).
func TestCarolsInboxReplyDoesNotReachBob(t *testing.T) {
	w := newIDWorld(t)
	conv := uuid.NewString()
	for _, s := range []step{
		{who: "messenger", subject: "crosstalk.cmd.messenger.conversation.start",
			body: cmd(msCarol, map[string]any{"conversation_id": conv, "participants": []events.Account{msDave}})},
		{who: "messenger", subject: "crosstalk.cmd.messenger.message.send",
			body: inConv(func(*idWorld) string { return conv }, msDave, map[string]any{"text": "for carol only"})},
	} {
		if got, reply := w.do(t, s); got != ok {
			t.Fatalf("%s: %s %s", s.subject, got, reply)
		}
	}

	bob := w.conn(t, string(msBob))
	spy, err := bob.nc.SubscribeSync("_INBOX.>")
	if err != nil {
		t.Fatal(err)
	}
	_ = bob.nc.Flush()
	got, reply := w.do(t, step{who: "messenger", subject: "crosstalk.query.inbox", body: inbox(msCarol)})
	if got != ok || !strings.Contains(string(reply), conv) {
		t.Fatalf("the backend's query of carol's inbox: %s %s", got, reply)
	}
	if m, err := spy.NextMsg(300 * time.Millisecond); err == nil {
		t.Fatalf("bob received a reply meant for the Messenger backend on %s: %s", m.Subject, m.Data)
	}
	expectRefused(t, bob.errs, `Subscription to "_INBOX.>"`)
}

// expectRefused waits for the permissions violation naming what.
func expectRefused(t *testing.T, errs <-chan error, what string) {
	t.Helper()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), what) {
			t.Errorf("%v, want a permissions violation for %s", err, what)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("NATS did not refuse the %s", what)
	}
}

// An end user that subscribes beyond its account's per-connection limit is
// refused by NATS, and one that publishes beyond its payload limit is
// disconnected (an app's backend here: the limits are its account's, so
// its backend's and its end users' alike); the service keeps answering everyone else (finding 6).
func TestLimitsHoldAnEndUserAndTheServiceAnswersOthers(t *testing.T) {
	w := newIDWorld(t)
	limits := natsconf.DefaultLimits.App
	bob := w.conn(t, string(msBob))
	for i := range limits.MaxSubscriptions + 1 {
		if _, err := bob.nc.SubscribeSync(api.FeedSubject(string(msBob))); err != nil {
			t.Fatalf("subscription %d: %v", i, err)
		}
	}
	_ = bob.nc.Flush()
	select {
	case err := <-bob.errs:
		if !errors.Is(err, nats.ErrMaxSubscriptionsExceeded) {
			t.Errorf("subscription %d: %v, want the maximum subscriptions error", limits.MaxSubscriptions+1, err)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("NATS took %d subscriptions of one end user's connection, the limit is %d",
			limits.MaxSubscriptions+1, limits.MaxSubscriptions)
	}
	w.answersAlice(t)

	backend := w.conn(t, "messenger")
	payloadRefused(t, backend.nc, limits.MaxPayload+1)
	w.answersAlice(t)
}

// answersAlice checks the service still answers instagram:alice.
func (w *idWorld) answersAlice(t *testing.T) {
	t.Helper()
	status := qry(func(*idWorld) map[string]any { return map[string]any{} })
	if got, reply := w.do(t, step{who: string(igAlice), subject: "crosstalk.query.status", body: status}); got != ok {
		t.Errorf("instagram:alice's status query: %s %s", got, reply)
	}
}

// payloadRefused publishes size bytes on nc and expects NATS to refuse
// them: the server closes the connection ("maximum payload violation"),
// or nats.go, told the account's limit by the server's INFO, refuses to
// send them.
func payloadRefused(t *testing.T, nc *nats.Conn, size int) {
	t.Helper()
	err := nc.Publish("crosstalk.cmd.messenger.message.send", make([]byte, size))
	if errors.Is(err, nats.ErrMaxPayload) && nc.MaxPayload() == int64(size-1) {
		return
	}
	if err != nil {
		t.Fatalf("a payload of %d bytes: %v (the connection's limit: %d)", size, err, nc.MaxPayload())
	}
	_ = nc.Flush()
	for deadline := time.Now().Add(2 * time.Second); !nc.IsClosed() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if err := nc.LastError(); !nc.IsClosed() || err == nil || !strings.Contains(strings.ToLower(err.Error()), "maximum payload") {
		t.Errorf("a payload of %d bytes: closed %v, %v; want the connection closed for its payload", size, nc.IsClosed(), err)
	}
}
