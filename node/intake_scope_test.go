package node_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
)

// Command ids are each app's own (issue 21, finding 4): under a generated
// identity configuration instagram and messenger give the same command id,
// through the intake and through request/reply, and get two commands
// decided on their own; crosstalk.query.command answers each app its own
// outcome, and no answer names the other app.
func TestCommandIDsArePerApp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, c := startWithIdentities(ctx, t)
	insta, _ := connectAs(t, url, c, "instagram")
	messenger, _ := connectAs(t, url, c, "messenger")
	id := uuid.NewString()

	mo := intakeStart(ctx, t, messenger, "messenger", id)
	io := intakeStart(ctx, t, insta, "instagram", id)
	if mo.Reply.ConversationID == io.Reply.ConversationID || io.Reply.Duplicate || mo.Reply.Duplicate {
		t.Fatalf("one id through two apps' intakes: messenger %+v, instagram %+v; want two conversations", mo.Reply, io.Reply)
	}
	for app, nc := range map[string]*nats.Conn{"instagram": insta, "messenger": messenger} {
		var o api.Outcome
		if err := client.New(nc).Query(ctx, api.QueryCommand, api.CommandQuery{CommandID: id}, &o); err != nil {
			t.Fatalf("%s asks for its outcome: %v", app, err)
		}
		want := map[string]api.Outcome{"instagram": io, "messenger": mo}[app]
		if o.App != app || o.Reply == nil || o.Reply.ConversationID != want.Reply.ConversationID {
			t.Errorf("%s's query.command answered %+v, want its own outcome %+v", app, o, want)
		}
	}

	rid := uuid.NewString()
	body := func(app string) map[string]any {
		return map[string]any{"command_id": rid, "actor": app + ":alice", "status": "idle"}
	}
	mr, err := client.New(messenger).Command(ctx, "messenger", api.ActionPresenceSet, body("messenger"))
	if err != nil {
		t.Fatal(err)
	}
	ir, err := client.New(insta).Command(ctx, "instagram", api.ActionPresenceSet, body("instagram"))
	if err != nil || ir.Duplicate || ir.Account != "instagram:alice" {
		t.Fatalf("instagram's presence.set under messenger's id: %+v, %v; want its own command", ir, err)
	}
	if again, err := client.New(messenger).Command(ctx, "messenger", api.ActionPresenceSet, body("messenger")); err != nil ||
		!again.Duplicate || again.StreamSeq != mr.StreamSeq {
		t.Fatalf("messenger's retry: %+v, %v; want its first reply %+v", again, err, mr)
	}
}

// intakeStart publishes app's conversation.start id to its intake and
// returns its outcome; the stream must take it as new, and the outcome
// must name nothing of another app.
func intakeStart(ctx context.Context, t *testing.T, nc *nats.Conn, app, id string) api.Outcome {
	t.Helper()
	sub, err := nc.SubscribeSync(api.OutcomeSubject(app))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	js, _ := jetstream.New(nc)
	data, _ := json.Marshal(map[string]any{"command_id": id, "actor": app + ":alice", "participants": []string{app + ":bob"}})
	ack, err := js.Publish(ctx, api.IntakeSubject(app, api.ActionConversationStart), data,
		jetstream.WithMsgID(api.IntakeMsgID(app, id)))
	if err != nil || ack.Duplicate {
		t.Fatalf("%s publishes %s to its intake: %+v, %v; want it kept, not a duplicate", app, id, ack, err)
	}
	m, err := sub.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatalf("%s's outcome: %v", app, err)
	}
	var o api.Outcome
	if err := json.Unmarshal(m.Data, &o); err != nil || o.CommandID != id || o.Reply == nil {
		t.Fatalf("%s's outcome: %s (%v), want a success", app, m.Data, err)
	}
	for _, other := range []string{"instagram", "messenger"} {
		if other != app && strings.Contains(string(m.Data), other) {
			t.Errorf("%s's outcome names %s: %s", app, other, m.Data)
		}
	}
	return o
}
