package rawattack

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/node"
)

// angle is the longest text of `<`: json.Marshal writes each as \u003c,
// 24,576 bytes for the 4,096 of the text.
var angle = strings.Repeat("<", 4096)

// connect dials the node as principal who, with its private reply inbox.
func (w *world) connect(t *testing.T, who string) *nats.Conn {
	t.Helper()
	cr, _ := w.cfg.Lookup(who)
	nc, err := node.ConnectWith(w.url, who, node.Credentials{User: cr.User, Password: cr.Password},
		nats.CustomInboxPrefix(natsconf.InboxPrefix(cr.Kind, cr.Principal)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// ask sends a request and decodes its success reply into out; a timeout
// or an error reply fails the test.
func ask(ctx context.Context, t *testing.T, nc *nats.Conn, subject string, body, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	m := request(ctx, t, nc, subject, b)
	for wait := again(m); wait > 0 && ctx.Err() == nil; wait = again(m) {
		time.Sleep(wait)
		m = request(ctx, t, nc, subject, b)
	}
	if code := m.Header.Get("Nats-Service-Error-Code"); code != "" {
		t.Fatalf("%s: %s %s", subject, code, m.Header.Get("Nats-Service-Error"))
	}
	if err := json.Unmarshal(m.Data, out); err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
}

// again says how long a well-behaved client waits before it asks again: a
// while when the read model is still applying min_seq (504), as long as
// the service says when the caller's query budget is spent (429); 0 for
// any other answer.
func again(m *nats.Msg) time.Duration {
	switch m.Header.Get("Nats-Service-Error-Code") {
	case "504":
		return 50 * time.Millisecond
	case "429":
		ms, err := strconv.Atoi(m.Header.Get(api.RetryAfterHeader))
		if err != nil { // past the in-flight limit: retry once one is answered
			ms = 10
		}
		return time.Duration(ms+1) * time.Millisecond
	}
	return 0
}

// request sends b and waits for the reply; a timeout fails the test.
func request(ctx context.Context, t *testing.T, nc *nats.Conn, subject string, b []byte) *nats.Msg {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := nc.RequestWithContext(rctx, subject, b)
	if err != nil {
		t.Fatalf("%s %s: %v", subject, b[:min(len(b), 200)], err)
	}
	return m
}

// command has messenger's backend run action as actor.
func pageCommand(ctx context.Context, t *testing.T, nc *nats.Conn, action string, cmd api.ConversationCommand) api.CommandReply {
	t.Helper()
	cmd.CommandID = uuid.NewString()
	var r api.CommandReply
	ask(ctx, t, nc, api.CommandSubject("messenger", action), cmd, &r)
	return r
}

// send has actor send text in conv.
func send(ctx context.Context, t *testing.T, nc *nats.Conn, actor, conv, text string) api.CommandReply {
	t.Helper()
	cmd := api.ConversationCommand{ConversationID: conv, Text: &text}
	cmd.Actor = actor
	return pageCommand(ctx, t, nc, api.ActionMessageSend, cmd)
}

// Attack 3 of issue 22, messages: 60 messages of 4,096 `<` are 1.5 MB of
// JSON, more than a NATS message carries. A page of limit 200 answers with
// fewer items and a cursor, and paging reaches the end with every message
// once, in order.
func TestPagesOfLongTextsFitAMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := startWorld(ctx, t)
	app, bob := w.connect(t, "messenger"), w.connect(t, "messenger:bob")
	start := api.ConversationCommand{Participants: []string{"messenger:bob"}}
	start.Actor = "messenger:mallory"
	conv := pageCommand(ctx, t, app, api.ActionConversationStart, start).ConversationID
	var sent []string
	var last api.CommandReply
	for range 60 {
		last = send(ctx, t, app, "messenger:mallory", conv, angle)
		sent = append(sent, last.MessageID)
	}
	var got []string
	q := api.MessagesQuery{ConversationID: conv, Viewer: "messenger:bob", Limit: api.MaxPageSize}
	q.MinSeq = last.StreamSeq // read what was sent
	for pages := 1; ; pages++ {
		var page api.MessagePage
		ask(ctx, t, bob, api.QuerySubject(api.QueryMessages), q, &page)
		if pages == 1 && (len(page.Items) >= 60 || page.NextCursor == "") {
			t.Fatalf("the first page holds %d messages, cursor %q: want fewer than 60 and a cursor", len(page.Items), page.NextCursor)
		}
		for _, m := range page.Items {
			got = append(got, m.MessageID)
		}
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			break
		}
	}
	if strings.Join(got, ",") != strings.Join(sent, ",") {
		t.Fatalf("paging gave %d messages, want the %d sent, each once and in order", len(got), len(sent))
	}
}

// Attack 3 of issue 22, inbox: thirty conversations of 255 long
// participant names, each with a message of 4,096 `<`, are 1.3 MB of
// inbox. Every limit the contract allows answers, and paging at each
// reaches every conversation once.
func TestInboxOfLongNamesAnswersEveryLimit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := startWorld(ctx, t)
	app, bob := w.connect(t, "messenger"), w.connect(t, "messenger:bob")
	want := map[string]bool{}
	var last api.CommandReply
	for i := range 30 {
		start := api.ConversationCommand{Participants: longNames(i)}
		start.Actor = "messenger:mallory"
		conv := pageCommand(ctx, t, app, api.ActionConversationStart, start).ConversationID
		last = send(ctx, t, app, "messenger:mallory", conv, angle)
		want[conv] = true
	}
	for limit := 1; limit <= api.MaxPageSize; limit++ {
		seen := inboxPages(ctx, t, bob, api.InboxQuery{Account: "messenger:bob", Limit: limit, QueryBase: api.QueryBase{MinSeq: last.StreamSeq}})
		for conv := range want {
			if seen[conv] != 1 {
				t.Fatalf("limit %d: conversation %s paged %d times, want once", limit, conv, seen[conv])
			}
		}
	}
}

// longNames is bob and 254 made-up accounts with the longest handle.
func longNames(conv int) []string {
	names := []string{"messenger:bob"}
	for i := len(names); i < api.MaxParticipants-1; i++ {
		names = append(names, fmt.Sprintf("messenger:%s%08d%04d", strings.Repeat("x", 52), conv, i))
	}
	return names
}

// inboxPages pages bob's inbox from q and counts each conversation.
func inboxPages(ctx context.Context, t *testing.T, bob *nats.Conn, q api.InboxQuery) map[string]int {
	t.Helper()
	seen, limit := map[string]int{}, q.Limit
	for {
		var page api.InboxPage
		ask(ctx, t, bob, api.QuerySubject(api.QueryInbox), q, &page)
		if len(page.Items) == 0 || len(page.Items) > limit {
			t.Fatalf("limit %d: a page of %d items", limit, len(page.Items))
		}
		for _, it := range page.Items {
			seen[it.ConversationID]++
		}
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			return seen
		}
	}
}
