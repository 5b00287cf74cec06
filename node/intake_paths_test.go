package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/service"
)

// outcomes collects a node's intake outcomes of app by command id.
type outcomes struct {
	mu   sync.Mutex
	byID map[string][]api.Outcome
	sub  *nats.Subscription
}

func watchOutcomes(t *testing.T, nc *nats.Conn, app string) *outcomes {
	t.Helper()
	w := &outcomes{byID: map[string][]api.Outcome{}}
	sub, err := nc.Subscribe(api.OutcomeSubject(app), func(m *nats.Msg) {
		var o api.Outcome
		if err := json.Unmarshal(m.Data, &o); err == nil {
			w.mu.Lock()
			w.byID[o.CommandID] = append(w.byID[o.CommandID], o)
			w.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return w
}

// await returns the outcomes of id once there are at least n.
func (w *outcomes) await(t *testing.T, id string, n int) []api.Outcome {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		got := w.byID[id]
		w.mu.Unlock()
		if len(got) >= n {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no outcome of %q", id)
	return nil
}

// publish publishes body to app's intake subject of action with
// Nats-Msg-Id msgID (none when ""; api.IntakeMsgID for a good one), and waits for the stream's ack.
func publish(ctx context.Context, t *testing.T, nc *nats.Conn, app, action, msgID string, body []byte) {
	t.Helper()
	m := nats.NewMsg(api.IntakeSubject(app, action))
	m.Data = body
	if msgID != "" {
		m.Header.Set(api.MsgIDHeader, msgID)
	}
	r, err := nc.RequestMsgWithContext(ctx, m)
	if err != nil || strings.Contains(string(r.Data), `"error"`) {
		t.Fatalf("publish to the intake: %v %s", err, r.Data)
	}
}

func startBody(id string) []byte {
	b, _ := json.Marshal(map[string]any{"command_id": id, "actor": "instagram:alice", "participants": []string{"instagram:bob"}})
	return b
}

func startNode(ctx context.Context, t *testing.T, o node.Options) *node.Node {
	t.Helper()
	o.Dir, o.Listen = t.TempDir(), "127.0.0.1:0"
	if o.Logger == nil {
		o.Logger = testkit.Quiet()
	}
	return runNode(ctx, t, o)
}

// A command sent through the intake and through request/reply, either
// first, has one effect: the second answer is the first's, a duplicate.
func TestIntakeAndRequestReplyOneEffect(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := startNode(ctx, t, node.Options{})
	w := watchOutcomes(t, n.Conn(), "instagram")
	c := client.New(n.Conn())
	for _, intakeFirst := range []bool{true, false} {
		id := uuid.NewString()
		var first, second api.CommandReply
		send := func() api.CommandReply {
			var body map[string]any
			_ = json.Unmarshal(startBody(id), &body)
			r, err := c.Command(ctx, "instagram", api.ActionConversationStart, body)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		viaIntake := func() api.CommandReply {
			publish(ctx, t, n.Conn(), "instagram", api.ActionConversationStart, api.IntakeMsgID("instagram", id), startBody(id))
			return *w.await(t, id, 1)[0].Reply
		}
		if intakeFirst {
			first, second = viaIntake(), send()
		} else {
			first, second = send(), viaIntake()
		}
		if first.Duplicate || !second.Duplicate || second.StreamSeq != first.StreamSeq || second.EventID != first.EventID {
			t.Errorf("intake first %v: first %+v, second %+v; want the second a duplicate of the first", intakeFirst, first, second)
		}
		msgs, err := n.Log().Load(ctx, events.ConversationSubject(events.ConversationIDFor("instagram", id)), 0)
		if err != nil || len(msgs) != 1 {
			t.Errorf("intake first %v: %d events (%v), want 1", intakeFirst, len(msgs), err)
		}
	}
}

// Every kind of bad intake message gets its error outcome, and the
// consumer goes on: a good command after them succeeds.
func TestIntakeBadMessages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var logs testkit.LockedBuffer
	n := startNode(ctx, t, node.Options{Logger: logs.Logger()})
	w := watchOutcomes(t, n.Conn(), "instagram")
	huge := strings.Repeat("x", int(n.Conn().MaxPayload())-600)
	for _, c := range []struct {
		name, action, code string
		body               func(id string) []byte
		header             func(id string) string
		outcomeID          string // "" where the message names none
	}{
		{"not JSON", api.ActionMessageSend, api.CodeInvalidRequest, func(string) []byte { return []byte("not json") }, same, "id"},
		{"wrong app", api.ActionConversationStart, api.CodeWrongApp, func(id string) []byte {
			return []byte(fmt.Sprintf(`{"command_id":%q,"actor":"messenger:bob","participants":["instagram:alice"]}`, id))
		}, same, "id"},
		{"unknown action", "message.fly", api.CodeInvalidRequest, startBody, same, "id"},
		{"oversized", api.ActionMessageSend, api.CodeInvalidRequest, func(id string) []byte {
			return []byte(fmt.Sprintf(`{"command_id":%q,"actor":"instagram:alice","conversation_id":%q,"text":%q}`, id, uuid.NewString(), huge))
		}, same, "id"},
		{"no Nats-Msg-Id", api.ActionConversationStart, api.CodeInvalidRequest, startBody, func(string) string { return "" }, ""},
		{"another Nats-Msg-Id", api.ActionConversationStart, api.CodeInvalidRequest, startBody, func(string) string { return api.IntakeMsgID("instagram", uuid.NewString()) }, "header"},
		{"a bare command id", api.ActionConversationStart, api.CodeInvalidRequest, startBody, func(id string) string { return id }, ""},
		{"another app's Nats-Msg-Id", api.ActionConversationStart, api.CodeInvalidRequest, startBody, func(id string) string { return api.IntakeMsgID("messenger", id) }, ""},
	} {
		id := uuid.NewString()
		header := c.header(id)
		publish(ctx, t, n.Conn(), "instagram", c.action, header, c.body(id))
		want := map[string]string{"id": id, "header": strings.TrimPrefix(header, "instagram."), "": ""}[c.outcomeID]
		o := w.await(t, want, 1)
		last := o[len(o)-1]
		if last.Error == nil || last.Error.Code != c.code || last.Reply != nil || last.Action != c.action || last.App != "instagram" {
			t.Errorf("%s: outcome %+v (%+v), want %s", c.name, last, last.Error, c.code)
		}
	}
	id := uuid.NewString()
	publish(ctx, t, n.Conn(), "instagram", api.ActionConversationStart, api.IntakeMsgID("instagram", id), startBody(id))
	if o := w.await(t, id, 1)[0]; o.Reply == nil || o.Error != nil {
		t.Fatalf("a good command after the bad ones: %+v", o)
	}
	if strings.Contains(logs.String(), "level=WARN msg=\"intake:") {
		t.Errorf("the consumer logged a failure:\n%s", logs.String())
	}
}

func same(id string) string { return api.IntakeMsgID("instagram", id) }

// crashingDecider appends a command through the service, then fails as a
// node would that died before the ack: the message is not acknowledged.
type crashingDecider struct {
	*service.Service
	mu      sync.Mutex
	crashed map[string]bool
}

func (d *crashingDecider) IntakeAll(ctx context.Context, cmds []intake.Command) []intake.Decision {
	decisions := d.Service.IntakeAll(ctx, cmds)
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, c := range cmds {
		var env api.CommandEnvelope
		_ = json.Unmarshal(c.Body, &env)
		if decisions[i].Err == nil && !d.crashed[env.CommandID] {
			d.crashed[env.CommandID] = true
			decisions[i] = intake.Decision{Err: fmt.Errorf("%w: simulated crash after the append", service.ErrUnavailable)}
		}
	}
	return decisions
}

// A crash between the append and the ack is harmless: the command is
// delivered again and answered as a duplicate; it has one effect.
func TestIntakeRedeliveryAfterCrash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := startNode(ctx, t, node.Options{Roles: noIntake})
	w := watchOutcomes(t, n.Conn(), "instagram")
	d := &crashingDecider{Service: n.Service(), crashed: map[string]bool{}}
	runCtx, stopRun := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.Intake().Consumer(d).Run(runCtx) }()
	defer func() {
		stopRun()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	id := uuid.NewString()
	publish(ctx, t, n.Conn(), "instagram", api.ActionConversationStart, api.IntakeMsgID("instagram", id), startBody(id))
	o := w.await(t, id, 1)
	if len(o) != 1 || o[0].Reply == nil || !o[0].Reply.Duplicate || !d.crashed[id] {
		t.Fatalf("outcomes %+v: want one, a duplicate, after the crash", o)
	}
	msgs, err := n.Log().Load(ctx, events.ConversationSubject(events.ConversationIDFor("instagram", id)), 0)
	if err != nil || len(msgs) != 1 || msgs[0].Seq != o[0].Reply.StreamSeq {
		t.Fatalf("%d events (%v), want the one the outcome names", len(msgs), err)
	}
}

// noIntake are the roles of a node that runs no intake consumer.
var noIntake = node.Roles{node.RoleCommands, node.RoleQueries, node.RoleCloser}
