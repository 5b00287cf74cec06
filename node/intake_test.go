package node_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/seal"
)

// A backlog of intake commands published while no node runs (hundreds of
// conversations, several messages each) is decided once a node starts:
// each command exactly once, each conversation's in the order published;
// every outcome is published and answered by crosstalk.query.command.
func TestIntakeBacklogDecidedOnceInOrder(t *testing.T) {
	const convs, perConv = 400, 24 // 400 starts + 9,600 sends = 10,000 commands
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := natstest.Start(t)
	opts := node.Options{Dir: t.TempDir(), NatsURL: srv.URL(), Logger: testkit.Quiet()}
	n, err := node.Start(ctx, opts) // creates the intake stream
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	ids := publishBacklog(ctx, t, srv, convs, perConv)

	nc := srv.Connect(t)
	outcomes := make(chan api.Outcome, convs*(perConv+1))
	sub, err := nc.Subscribe(api.OutcomeSubject("instagram"), func(m *nats.Msg) {
		var o api.Outcome
		if json.Unmarshal(m.Data, &o) == nil {
			outcomes <- o
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	n = runNode(ctx, t, opts)
	start := time.Now()
	seen := map[string]api.Outcome{}
	for len(seen) < convs*(perConv+1) {
		select {
		case o := <-outcomes:
			if o.Error != nil || o.Reply == nil {
				t.Fatalf("outcome %+v: want a success", o)
			}
			seen[o.CommandID] = o
		case <-ctx.Done():
			t.Fatalf("%d outcomes of %d", len(seen), convs*(perConv+1))
		}
	}
	t.Logf("%d intake commands decided in %v", len(seen), time.Since(start).Round(time.Millisecond))
	checkLog(ctx, t, n, ids, perConv)
	checkQuery(ctx, t, nc, ids[0][3], seen)
}

// publishBacklog publishes, per conversation, a start and perConv sends
// whose text is their index; ids[c][i] is the command id of conversation
// c's i-th command (the start is 0). Conversations are interleaved.
func publishBacklog(ctx context.Context, t *testing.T, srv *natstest.Server, convs, perConv int) [][]string {
	t.Helper()
	js := srv.JetStream(t)
	ids := make([][]string, convs)
	var futures []jetstream.PubAckFuture
	for i := 0; i <= perConv; i++ {
		for c := range ids {
			id := uuid.NewString()
			ids[c] = append(ids[c], id)
			body := map[string]any{"command_id": id, "actor": "instagram:alice"}
			action := api.ActionMessageSend
			if i == 0 {
				action = api.ActionConversationStart
				body["participants"] = []string{"instagram:bob" + strconv.Itoa(c)}
			} else {
				body["conversation_id"] = events.ConversationIDFor("instagram", ids[c][0])
				body["text"] = strconv.Itoa(i)
			}
			data, _ := json.Marshal(body)
			f, err := js.PublishAsync(api.IntakeSubject("instagram", action), data, jetstream.WithMsgID(api.IntakeMsgID("instagram", id)))
			if err != nil {
				t.Fatal(err)
			}
			futures = append(futures, f)
			if js.PublishAsyncPending() >= 1024 {
				// Await a window: past the pending limit a loaded
				// server's acks may take longer than the stall wait,
				// and PublishAsync then fails rather than waits.
				awaitFutures(ctx, t, futures)
				futures = futures[:0]
			}
		}
	}
	awaitFutures(ctx, t, futures)
	return ids
}

// awaitFutures waits for every publish's ack.
func awaitFutures(ctx context.Context, t *testing.T, futures []jetstream.PubAckFuture) {
	t.Helper()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
}

// checkLog reads the log back: each conversation holds its start and its
// sends, each once, the texts in the order published.
func checkLog(ctx context.Context, t *testing.T, n *node.Node, ids [][]string, perConv int) {
	t.Helper()
	for c, cids := range ids {
		msgs, err := n.Log().Load(ctx, events.ConversationSubject(events.ConversationIDFor("instagram", cids[0])), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != perConv+1 {
			t.Fatalf("conversation %d: %d events, want %d", c, len(msgs), perConv+1)
		}
		for i, m := range msgs[1:] {
			e, err := events.Decode(m.Data)
			text := ""
			if err == nil {
				text, err = sentText(ctx, n, e)
			}
			if err != nil || text != strconv.Itoa(i+1) || e.CausationID != cids[i+1] {
				t.Fatalf("conversation %d, event %d: text %q, command %s (%v); want %d, %s", c, i+1, text, e.CausationID, err, i+1, cids[i+1])
			}
		}
	}
}

// checkQuery asks crosstalk.query.command for id's outcome.
func checkQuery(ctx context.Context, t *testing.T, nc *nats.Conn, id string, seen map[string]api.Outcome) {
	t.Helper()
	body, _ := json.Marshal(api.CommandQuery{CommandID: id, App: "instagram"})
	m, err := nc.RequestWithContext(ctx, api.QuerySubject(api.QueryCommand), body)
	if err != nil {
		t.Fatal(err)
	}
	var o api.Outcome
	if err := json.Unmarshal(m.Data, &o); err != nil || o.Reply == nil || *o.Reply != *seen[id].Reply {
		t.Fatalf("query.command %s: %s (%v), want %+v", id, m.Data, err, seen[id].Reply)
	}
}

// sentText is the text of message.sent e, opened with the node's keys.
func sentText(ctx context.Context, n *node.Node, e events.Event) (string, error) {
	var d events.MessageSentData
	if err := e.DecodeData(&d); err != nil || d.Sealed == "" {
		return d.Text, err
	}
	ad := seal.AD(events.ConversationSubject(e.Subject), string(e.Type), e.ID, string(d.Sender))
	return n.Keys().Open(ctx, keyring.Scope{Account: string(d.Sender), Conversation: e.Subject}, ad, d.Sealed)
}
