package authcallout_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/node"
)

// What the service sees of a callout user: nats-server writes the name of
// the user JWT the callout signed as Nats-Request-Info's "user", not the
// user's nkey or the client's own connection name ("instagram:eve" here),
// so the service recognises the end user as its crosstalk account.
func TestServiceSeesTheCalloutUserAsItsAccount(t *testing.T) {
	w := newWorld(t)
	cr, _ := w.cfg.Lookup(natsconf.PrincipalService)
	svc, err := node.ConnectWith(w.url, "echo", node.Credentials{User: cr.User, Password: cr.Password})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	sub, err := svc.Subscribe("crosstalk.query.whoami", func(m *nats.Msg) {
		_ = m.Respond([]byte(m.Header.Get(identity.RequestInfoHeader)))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	_ = svc.Flush()

	alice, _, err := w.device(t, "instagram:alice", w.token(t, "instagram:alice", 5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	r, err := alice.Request("crosstalk.query.whoami", nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Nats-Request-Info of a callout user: %s", r.Data)
	p, err := identity.FromRequestInfo(string(r.Data), identity.AdminAccount)
	if err != nil || p.Kind != identity.KindUser || p.String() != "instagram/instagram:alice" {
		t.Fatalf("the service sees %+v (%v), want user instagram/instagram:alice", p, err)
	}
}

// A device with a valid token for instagram:alice acts as instagram:alice
// and as nobody else; its events record it; it reads its own feed and
// replies under its own inbox prefix, and NATS refuses it every other
// inbox, another user's feed and another app's commands.
func TestDeviceActsAsItsAccountOnly(t *testing.T) {
	w := newWorld(t)
	alice, errs, err := w.device(t, "instagram:alice", w.token(t, "instagram:alice", 5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	feed, err := alice.SubscribeSync(api.FeedSubject("instagram:alice"))
	if err != nil {
		t.Fatal(err)
	}
	reply := start(t, alice, "instagram:alice", "200")
	var ok struct {
		StreamSeq uint64 `json:"stream_seq"`
	}
	if err := json.Unmarshal(reply, &ok); err != nil || ok.StreamSeq == 0 {
		t.Fatalf("start as instagram:alice: %s (%v)", reply, err)
	}
	m, err := w.node.Log().Get(context.Background(), ok.StreamSeq)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := events.Decode(m.Data); err != nil || e.Principal != "instagram/instagram:alice" {
		t.Errorf("the event records principal %q (%v), want instagram/instagram:alice", e.Principal, err)
	}
	if n, err := feed.NextMsg(10 * time.Second); err != nil || !strings.Contains(string(n.Data), "conversation.started") {
		t.Errorf("alice's feed: %v %v", n, err)
	}
	start(t, alice, "instagram:carol", "403")

	for _, subject := range []string{"_INBOX.>", "_INBOX.user.instagram.carol.>", api.FeedSubject("instagram:carol")} {
		if _, err := alice.SubscribeSync(subject); err != nil {
			t.Fatal(err)
		}
		_ = alice.Flush()
		violation(t, errs, "Subscription", subject)
	}
	if err := alice.Publish("crosstalk.cmd.messenger.conversation.start", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	_ = alice.Flush()
	violation(t, errs, "Publish", "crosstalk.cmd.messenger.conversation.start")
}

// start sends conversation.start as actor with instagram:carol and checks
// the status: "200" for a reply without an error header.
func start(t *testing.T, nc *nats.Conn, actor, want string) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"command_id": uuid.NewString(), "actor": actor,
		"participants": []string{"instagram:carol", "instagram:dave"}})
	r, err := nc.Request(api.CommandSubject("instagram", api.ActionConversationStart), body, 10*time.Second)
	if err != nil {
		t.Fatalf("start as %s: %v", actor, err)
	}
	got := r.Header.Get("Nats-Service-Error-Code")
	if got == "" {
		got = "200"
	}
	if got != want {
		t.Fatalf("start as %s: %s %s, want %s", actor, got, r.Data, want)
	}
	return r.Data
}

// violation waits for NATS to refuse the device's op ("Publish",
// "Subscription") on subject.
func violation(t *testing.T, errs chan error, op, subject string) {
	t.Helper()
	select {
	case err := <-errs:
		want := "Permissions Violation for " + op + ` to "` + subject + `"`
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %s", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("%s on %s was not refused", op, subject)
	}
}

// A device is bound by its app account's limits block: in
// configuration-file mode nats-server applies those, and not the limits
// of the user JWT the callout signs, to a callout user. NATS refuses a
// subscription past max_subscriptions and closes the device for a message
// past max_payload.
func TestAccountLimitsBindDevices(t *testing.T) {
	const maxSubs, maxPayload = 8, 4096
	w := newWorldWith(t, func(conf string) string {
		// the instagram account's generated limits line, tightened
		head := "  \"instagram\" {\n"
		i := strings.Index(conf, head) + len(head)
		end := i + strings.Index(conf[i:], "\n")
		return conf[:i] + fmt.Sprintf("    limits: {max_connections: 64, max_subscriptions: %d, max_payload: %d}",
			maxSubs, maxPayload) + conf[end:]
	})
	alice, errs, err := w.device(t, "instagram:alice", w.token(t, "instagram:alice", 5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for range maxSubs {
		if _, err := alice.SubscribeSync(api.FeedSubject("instagram:alice")); err != nil {
			t.Fatal(err)
		}
	}
	if err := alice.Flush(); err != nil || len(errs) != 0 {
		t.Fatalf("refused within the limit: %v, %d errors", err, len(errs))
	}
	_, _ = alice.SubscribeSync(api.FeedSubject("instagram:alice"))
	_ = alice.Flush()
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "maximum subscriptions exceeded") {
			t.Errorf("subscription past the limit: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("a subscription past the limit was accepted")
	}
	// the server tells the client its max_payload, the account's, and the
	// client refuses before sending
	if got := alice.MaxPayload(); got != maxPayload {
		t.Errorf("the device's max payload is %d, want the account's %d", got, maxPayload)
	}
	if err := alice.Publish("crosstalk.query.inbox", make([]byte, maxPayload+1)); !errors.Is(err, nats.ErrMaxPayload) {
		t.Errorf("a message past the payload limit: %v, want nats.ErrMaxPayload", err)
	}
}
