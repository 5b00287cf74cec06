package rawattack

import (
	"context"
	"encoding/json"
	"fmt"
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

// world is a node under a generated identity configuration, with one
// conversation of each app that the attackers below are not part of.
type world struct {
	url string
	cfg natsconf.Config
	// igCommand is instagram's intake command; mConv is
	// messenger:carol's conversation with messenger:dave.
	igCommand, mConv string
}

func startWorld(ctx context.Context, t *testing.T) *world {
	t.Helper()
	opts, cfg := nodetest.IdentityOptions(t)
	n := nodetest.Run(ctx, t, opts)
	w := &world{url: n.Conn().ConnectedUrl(), cfg: cfg}
	w.mConv = w.start(ctx, t, "messenger", "messenger:carol", "messenger:dave")
	w.igCommand = w.intakeStart(ctx, t)
	return w
}

// start has app's backend start a conversation of actor with other, the
// honest way, and returns its conversation id.
func (w *world) start(ctx context.Context, t *testing.T, app, actor, other string) string {
	t.Helper()
	cr, _ := w.cfg.Lookup(app)
	nc, err := node.ConnectWith(w.url, app, node.Credentials{User: cr.User, Password: cr.Password},
		nats.CustomInboxPrefix(natsconf.InboxPrefix(cr.Kind, cr.Principal)))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	id := uuid.NewString()
	body := fmt.Sprintf(`{"command_id":%q,"actor":%q,"participants":[%q]}`, id, actor, other)
	m, err := nc.RequestWithContext(ctx, api.CommandSubject(app, api.ActionConversationStart), []byte(body))
	if err != nil || m.Header.Get("Nats-Service-Error-Code") != "" {
		t.Fatalf("%s starts a conversation: %v %s", app, err, m.Data)
	}
	var r api.CommandReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		t.Fatal(err)
	}
	return r.ConversationID
}

// intakeStart has instagram's backend start a conversation through its
// durable intake and waits until it is decided: crosstalk.query.command
// knows the outcomes of intake commands.
func (w *world) intakeStart(ctx context.Context, t *testing.T) string {
	t.Helper()
	cr, _ := w.cfg.Lookup("instagram")
	nc, err := node.ConnectWith(w.url, "instagram", node.Credentials{User: cr.User, Password: cr.Password},
		nats.CustomInboxPrefix(natsconf.InboxPrefix(cr.Kind, cr.Principal)))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	id := uuid.NewString()
	body := fmt.Sprintf(`{"command_id":%q,"actor":"instagram:alice","participants":["instagram:eve"]}`, id)
	js, _ := jetstream.New(nc)
	if _, err := js.Publish(ctx, api.IntakeSubject("instagram", api.ActionConversationStart), []byte(body),
		jetstream.WithMsgID(api.IntakeMsgID("instagram", id))); err != nil {
		t.Fatal(err)
	}
	q := []byte(fmt.Sprintf(`{"command_id":%q}`, id))
	for ctx.Err() == nil {
		m, err := nc.RequestWithContext(ctx, api.QuerySubject(api.QueryCommand), q)
		if err == nil && m.Header.Get("Nats-Service-Error-Code") == "" {
			return id
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("instagram's intake command was never decided")
	return ""
}

// info is a Nats-Request-Info value as nats-server writes it.
func info(acc, user string) string {
	return fmt.Sprintf(`{"start":"2026-12-07T10:00:00Z","host":"127.0.0.1","id":7,"acc":%q,"user":%q,"server":"x"}`, acc, user)
}

// attack is one request a principal may not make, which would succeed as
// the identity it forges; honest is the status it gets sent plainly.
type attack struct {
	who, subject, body, forged, honest string
}

func (w *world) attacks() []attack {
	carol := info("messenger", "messenger:carol")
	igApp := info("instagram", "instagram-backend")
	return []attack{
		{"messenger:bob", api.QuerySubject(api.QueryInbox), `{"account":"messenger:carol"}`, carol, "403"},
		{"messenger:bob", api.QuerySubject(api.QueryMessages),
			fmt.Sprintf(`{"conversation_id":%q,"viewer":"messenger:carol"}`, w.mConv), carol, "403"},
		{"messenger:bob", api.CommandSubject("messenger", api.ActionConversationStart),
			fmt.Sprintf(`{"command_id":%q,"actor":"messenger:carol","participants":["messenger:dave"]}`, uuid.NewString()), carol, "403"},
		// command ids are each app's own: messenger does not find instagram's
		{"messenger", api.QuerySubject(api.QueryCommand), fmt.Sprintf(`{"command_id":%q}`, w.igCommand), igApp, "404"},
		{"messenger", api.QuerySubject(api.QueryInbox), `{"account":"instagram:alice"}`, igApp, "403"},
		{natsconf.PrincipalAdmin, api.QuerySubject(api.QueryInbox), `{"account":"instagram:alice"}`,
			info("instagram", "instagram:alice"), "403"},
	}
}

// Every trick, at every endpoint family, as every principal that can
// reach it: the request is refused (400 for a malformed or doubled
// header, 403 for one that hides the caller) or answered as the real
// caller (the attack's honest status), never as the identity it forges.
func TestNoTrickChangesWhoIsAnswered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := startWorld(ctx, t)
	conns := map[string]*rawConn{}
	for _, a := range w.attacks() {
		rc, ok := conns[a.who]
		if !ok {
			cr, _ := w.cfg.Lookup(a.who)
			rc = dialRaw(t, w.url, cr.User, cr.Password, natsconf.InboxPrefix(cr.Kind, cr.Principal)+".raw")
			conns[a.who] = rc
		}
		for _, tr := range tricks {
			r := rc.request(t, a.subject, tr.block(a.forged), a.body)
			if r.status != "400" && r.status != "403" && r.status != a.honest {
				t.Errorf("%s on %s with %s: answered %q %s, want 400, 403 or the real caller's %s",
					a.who, a.subject, tr.name, r.status, r.body, a.honest)
			}
		}
	}
}
