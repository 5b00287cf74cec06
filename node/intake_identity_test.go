package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/node/nodetest"
)

// Under a generated identity configuration an app's backend publishes to
// its own intake and reads its own outcomes; NATS refuses it another app's
// intake and outcomes, and refuses an end user the intake altogether; the
// service refuses another app's outcome on crosstalk.query.command.
func TestIntakeUnderIdentities(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, c := startWithIdentities(ctx, t)
	insta, instaErrs := connectAs(t, url, c, "instagram")

	outcomes, err := insta.SubscribeSync(api.OutcomeSubject("instagram"))
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	publishStart(ctx, t, insta, "instagram", id)
	m, err := outcomes.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var o api.Outcome
	if err := json.Unmarshal(m.Data, &o); err != nil || o.CommandID != id || o.Reply == nil {
		t.Fatalf("instagram's outcome: %s (%v)", m.Data, err)
	}

	js, _ := jetstream.New(insta)
	short, cancelShort := context.WithTimeout(ctx, time.Second)
	defer cancelShort()
	if _, err := js.Publish(short, api.IntakeSubject("messenger", api.ActionConversationStart), []byte(`{}`),
		jetstream.WithMsgID(api.IntakeMsgID("messenger", uuid.NewString())), jetstream.WithRetryAttempts(0)); err == nil {
		t.Error("instagram published to messenger's intake")
	}
	expectViolation(t, instaErrs, "Publish", "crosstalk.intake.messenger")
	if _, err := insta.SubscribeSync(api.OutcomeSubject("messenger")); err == nil {
		insta.Flush()
	}
	expectViolation(t, instaErrs, "Subscription", "crosstalk.outcome.messenger")

	alice, aliceErrs := connectAs(t, url, c, "instagram:alice")
	if err := alice.Publish(api.IntakeSubject("instagram", api.ActionConversationStart), []byte(`{}`)); err == nil {
		alice.Flush()
	}
	expectViolation(t, aliceErrs, "Publish", "crosstalk.intake.instagram")
	_, _ = alice.SubscribeSync(api.OutcomeSubject("instagram"))
	alice.Flush()
	expectViolation(t, aliceErrs, "Subscription", "crosstalk.outcome.instagram")

	messenger, _ := connectAs(t, url, c, "messenger")
	body, _ := json.Marshal(api.CommandQuery{CommandID: id})
	r, err := messenger.RequestWithContext(ctx, api.QuerySubject(api.QueryCommand), body)
	if err != nil {
		t.Fatal(err)
	}
	// Command ids are each app's own: messenger's id space has no such
	// command, and the answer says nothing of instagram's.
	if r.Header.Get("Nats-Service-Error-Code") != "404" || strings.Contains(string(r.Data), "instagram") {
		t.Errorf("messenger asked for instagram's command id: %s, want 404 naming no other app", r.Data)
	}
	other, _ := json.Marshal(api.CommandQuery{CommandID: id, App: "instagram"})
	if r, err = messenger.RequestWithContext(ctx, api.QuerySubject(api.QueryCommand), other); err != nil {
		t.Fatal(err)
	}
	if r.Header.Get("Nats-Service-Error-Code") != "403" || strings.Contains(string(r.Data), "instagram") {
		t.Errorf("messenger read instagram's outcome: %s, want 403 naming no other app", r.Data)
	}
	if r, err = insta.RequestWithContext(ctx, api.QuerySubject(api.QueryCommand), body); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(r.Data, &o); err != nil || o.CommandID != id || o.Reply == nil {
		t.Errorf("instagram's own outcome: %s (%v)", r.Data, err)
	}
}

// startWithIdentities starts a node under a generated configuration of the
// seed's apps and stops it when the test ends. It returns the URL its
// clients connect to and the configuration's credentials.
func startWithIdentities(ctx context.Context, t *testing.T) (url string, c natsconf.Config) {
	t.Helper()
	opts, c := nodetest.IdentityOptions(t)
	return runNode(ctx, t, opts).Conn().ConnectedUrl(), c
}

// connectAs connects as principal; the channel receives the connection's
// asynchronous errors (permission violations).
func connectAs(t *testing.T, url string, c natsconf.Config, principal string) (*nats.Conn, chan error) {
	t.Helper()
	cr, err := c.Lookup(principal)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	nc, err := node.ConnectWith(url, principal, node.CredentialsOf(cr),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default: // the test reads the first few
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc, errs
}

// publishStart publishes a conversation.start of app's backend to app's
// intake and expects the stream's acknowledgement.
func publishStart(ctx context.Context, t *testing.T, nc *nats.Conn, app, id string) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"command_id": id, "actor": app + ":alice", "participants": []string{app + ":bob"}})
	if _, err := js.Publish(ctx, api.IntakeSubject(app, api.ActionConversationStart), body, jetstream.WithMsgID(api.IntakeMsgID(app, id))); err != nil {
		t.Fatalf("%s publishes to its intake: %v", app, err)
	}
}

// expectViolation waits for the permission violation of op on subject.
func expectViolation(t *testing.T, errs chan error, op, subject string) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case err := <-errs:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), op) && strings.Contains(err.Error(), subject) {
				return
			}
		case <-timeout:
			t.Errorf("no permission violation for %s on %s", op, subject)
			return
		}
	}
}
