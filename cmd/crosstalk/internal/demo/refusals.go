package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
)

// ErrRefusal is wrapped by the error of a refusal that did not happen as
// the identity model says it must.
var ErrRefusal = errors.New("identity refusal check failed")

// refusalWait bounds how long a refusal may take to arrive.
const refusalWait = 5 * time.Second

// refusals shows four things a client that lies cannot do, each refused
// where the identity model says: by the NATS server, or by the service
// answering the authenticated caller whatever the request claims.
func (d *demo) refusals(ctx context.Context, story *seed.Story) error {
	fmt.Fprintf(d.out, "\n== %s  identities: what a client that lies cannot do\n", d.clock.Now().Format("2006-01-02"))
	for _, check := range []func(context.Context, *seed.Story) error{d.otherAppsSubject, d.claimedViewer, d.forgedHeader, d.bareLFForgery,
		d.othersReplies} {
		if err := check(ctx, story); err != nil {
			return err
		}
	}
	fmt.Fprintln(d.out, "\nthe identities held: each refusal came from where the model puts it.")
	return nil
}

func (d *demo) ok(format string, args ...any) {
	fmt.Fprintf(d.out, "  ✓ %s\n", fmt.Sprintf(format, args...))
}

func refusal(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefusal, fmt.Sprintf(format, args...))
}

// otherAppsSubject sends a message.send on Messenger's command subject
// through the Instagram app's connection: the NATS server refuses the
// publish (the app's account may publish only on its own app's subjects),
// which nats.go reports to the connection's error handler, not to the
// request, which would only time out.
func (d *demo) otherAppsSubject(ctx context.Context, story *seed.Story) error {
	c := d.conns[aliceApp]
	subject := api.CommandSubject(bobApp, "message.send")
	rctx, cancel := context.WithTimeout(ctx, refusalWait)
	defer cancel()
	replied := make(chan error, 1)
	go func() {
		_, err := client.New(c.nc).Command(rctx, bobApp, "message.send", map[string]any{
			"command_id": events.NewID(), "actor": seed.Bob, "conversation_id": story.Same, "text": "sent by instagram"})
		replied <- err
	}()
	select {
	case err := <-c.errs:
		cancel()
		<-replied
		if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), subject) {
			return refusal("the Instagram app on %s: want a permissions violation, got %v", subject, err)
		}
		d.ok("the Instagram app may not publish on %s: refused by NATS itself (%v)", subject, err)
		return nil
	case err := <-replied:
		return refusal("the Instagram app on %s was not refused by NATS: the request returned %v", subject, err)
	}
}

// claimedViewer asks, on messenger:bob's own connection, for alice's
// presence claiming the viewer instagram:eve: the service answers for its
// authenticated caller, to whom policy v2 hides Instagram's activity.
func (d *demo) claimedViewer(ctx context.Context, story *seed.Story) error {
	var p api.PresenceView
	req := map[string]any{"viewer": seed.Eve, "account": seed.Alice, "min_seq": story.Seq()}
	if err := client.New(d.conns[bob].nc).Query(ctx, "presence", req, &p); err != nil {
		return refusal("presence of %s asked by %s as %s: %v", seed.Alice, bob, seed.Eve, err)
	}
	if p.Visible {
		return refusal("%s claiming viewer %s sees %s's activity status: %+v", bob, seed.Eve, seed.Alice, p)
	}
	d.ok("%s, on its own connection, claims the viewer %s and still does not see %s's activity status "+
		"(visible: false): presence answers for the authenticated caller", bob, seed.Eve, seed.Alice)
	return nil
}

// forgedHeader asks, on messenger:bob's connection, for alice's inbox with
// a Nats-Request-Info header claiming to be instagram:alice: nats-server
// replaces the header on the way through the service import, and the
// service answers messenger:bob, who may read only its own inbox.
func (d *demo) forgedHeader(ctx context.Context, story *seed.Story) error {
	data, err := json.Marshal(map[string]any{"account": seed.Alice, "min_seq": story.Seq()})
	if err != nil {
		return err
	}
	forged := fmt.Sprintf(`{"acc":%q,"user":%q}`, aliceApp, seed.Alice)
	msg := &nats.Msg{Subject: api.QuerySubject("inbox"), Data: data, Header: nats.Header{}}
	msg.Header.Set(identity.RequestInfoHeader, forged)
	rctx, cancel := context.WithTimeout(ctx, refusalWait)
	defer cancel()
	reply, err := d.conns[bob].nc.RequestMsgWithContext(rctx, msg)
	if err != nil {
		return refusal("the forged inbox query: %v", err)
	}
	status := reply.Header.Get(micro.ErrorCodeHeader)
	var body api.ErrorBody
	_ = json.Unmarshal(reply.Data, &body)
	if status != "403" || body.Error.Code != api.CodeForbidden {
		return refusal("%s asking for %s's inbox with a forged %s header: got %q %s, want 403 %s",
			bob, seed.Alice, identity.RequestInfoHeader, status, reply.Data, api.CodeForbidden)
	}
	d.ok("%s asks for %s's inbox with a forged %s header claiming %s: answered as %s, 403 %s (%s)",
		bob, seed.Alice, identity.RequestInfoHeader, seed.Alice, bob, body.Error.Code, body.Error.Message)
	return nil
}
