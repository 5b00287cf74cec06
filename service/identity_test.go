package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/crosstalk-dev/crosstalk/clock"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/headerguard"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

// Outcomes of one step of the matrix: where it was decided.
const (
	ok           = "ok"                          // answered
	natsRefused  = "nats: permissions violation" // refused by the NATS server
	noResponders = "nats: no responders"         // nothing answers there
	wrongApp     = "403 wrong_app"               // refused by the service
	forbidden    = "403 forbidden"
	notPart      = "403 not_participant"
)

// The accounts of the matrix. Principals are named as in credentials.json:
// "instagram" is the Instagram app (user instagram-backend of NATS account
// instagram), "instagram:alice" an end user of that account.
const (
	igAlice = events.Account("instagram:alice")
	igZoe   = events.Account("instagram:zoe")
	igCarol = events.Account("instagram:carol")
	igEve   = events.Account("instagram:eve")
	msBob   = events.Account("messenger:bob")
)

// idWorld is the identity test's service on a nats-server running the
// configuration natsconf generates, and one connection per principal.
type idWorld struct {
	h     *harness
	cfg   natsconf.Config
	url   string
	conns map[string]*idConn
	// cross is a conversation of instagram:alice and messenger:bob; same a
	// conversation of instagram:zoe and instagram:carol, without alice.
	cross, same string
}

// idConn is one principal's connection and the asynchronous errors (the
// NATS server's permissions violations) it received.
type idConn struct {
	nc   *nats.Conn
	errs chan error
}

// step is one cell of the principal × action matrix (docs/security.md).
type step struct {
	who     string // the principal, as credentials.json names it
	what    string // the action, as the matrix names it
	subject string
	body    func(w *idWorld) any
	forged  string // a Nats-Request-Info header the client sends itself
	want    string
	check   func(t *testing.T, w *idWorld, reply []byte)
}

func cmd(actor events.Account, fields map[string]any) func(*idWorld) any {
	return func(*idWorld) any {
		body := map[string]any{"command_id": uuid.NewString(), "actor": actor}
		for k, v := range fields {
			body[k] = v
		}
		return body
	}
}

func qry(fields func(w *idWorld) map[string]any) func(*idWorld) any {
	return func(w *idWorld) any {
		body := fields(w)
		body["min_seq"] = w.h.lastSeq() // read what the steps before wrote
		return body
	}
}

func inbox(a events.Account) func(*idWorld) any {
	return qry(func(*idWorld) map[string]any { return map[string]any{"account": a} })
}

func messages(conv func(*idWorld) string, viewer events.Account) func(*idWorld) any {
	return qry(func(w *idWorld) map[string]any { return map[string]any{"conversation_id": conv(w), "viewer": viewer} })
}

func conversation(conv func(*idWorld) string) func(*idWorld) any {
	return qry(func(w *idWorld) map[string]any { return map[string]any{"conversation_id": conv(w)} })
}

func presence(viewer, account events.Account) func(*idWorld) any {
	return qry(func(*idWorld) map[string]any { return map[string]any{"viewer": viewer, "account": account} })
}

func crossConv(w *idWorld) string { return w.cross }
func sameConv(w *idWorld) string  { return w.same }

func inConv(conv func(*idWorld) string, actor events.Account, fields map[string]any) func(*idWorld) any {
	return func(w *idWorld) any {
		body := cmd(actor, fields)(w).(map[string]any)
		body["conversation_id"] = conv(w)
		return body
	}
}

func policyDoc(name string) func(*idWorld) any {
	return func(*idWorld) any {
		doc, err := policies.Read(name)
		if err != nil {
			panic(err)
		}
		return api.PublishPolicy{CommandID: uuid.NewString(), Policy: doc}
	}
}

// stored checks that the event a step appended records principal.
func stored(principal string) func(*testing.T, *idWorld, []byte) {
	return func(t *testing.T, w *idWorld, reply []byte) {
		t.Helper()
		var r struct {
			StreamSeq uint64 `json:"stream_seq"`
		}
		if err := json.Unmarshal(reply, &r); err != nil || r.StreamSeq == 0 {
			t.Fatalf("reply %s: %v", reply, err)
		}
		m, err := w.h.log.Get(w.h.ctx, r.StreamSeq)
		if err != nil {
			t.Fatal(err)
		}
		e, err := events.Decode(m.Data)
		if err != nil || e.Principal != principal {
			t.Fatalf("stored event at seq %d has principal %q (%v), want %q:\n%s", r.StreamSeq, e.Principal, err, principal, m.Data)
		}
	}
}

// answered checks a query's reply.
func answered(want string) func(*testing.T, *idWorld, []byte) {
	return func(t *testing.T, _ *idWorld, reply []byte) {
		t.Helper()
		if !strings.Contains(string(reply), want) {
			t.Fatalf("reply %s, want it to contain %s", reply, want)
		}
	}
}

// matrix is every principal × action of docs/security.md, in the order the
// steps run (later steps read what earlier ones wrote). Policy v1 (2020,
// cross-app allowed) is in force; the privacy rule of v2 is tested after.
var matrix = []step{
	// The admin publishes policies, reads the policy report, and nothing else.
	{who: "admin", what: "publish a policy", subject: "crosstalk.admin.policy.publish",
		body: policyDoc("v1-2020-cross-app.json"), want: ok, check: stored("ADMIN/admin")},
	{who: "admin", what: "query policy", subject: "crosstalk.query.policy", body: qry(func(*idWorld) map[string]any { return map[string]any{} }), want: ok},
	{who: "admin", what: "rebuild the views", subject: "crosstalk.admin.views.rebuild", body: emptyBody,
		want: ok, check: answered(`"progress"`)},
	{who: "admin", what: "send a command", subject: "crosstalk.cmd.instagram.presence.set",
		body: cmd(igAlice, map[string]any{"status": "active"}), want: natsRefused},
	{who: "admin", what: "read an inbox", subject: "crosstalk.query.inbox", body: inbox(igAlice), want: forbidden},
	{who: "admin", what: "erase an account", subject: "crosstalk.cmd.instagram.account.erase",
		body: cmd(igEve, nil), want: ok, check: stored("ADMIN/admin")},

	// The app acts as any account of its own app, and only there.
	{who: "instagram", what: "start a conversation as its account", subject: "crosstalk.cmd.instagram.conversation.start",
		body: func(w *idWorld) any {
			return cmd(igAlice, map[string]any{"conversation_id": w.cross, "participants": []events.Account{msBob}})(w)
		}, want: ok, check: stored("instagram/instagram-backend")},
	{who: "instagram", what: "start a conversation as another of its accounts", subject: "crosstalk.cmd.instagram.conversation.start",
		body: func(w *idWorld) any {
			return cmd(igZoe, map[string]any{"conversation_id": w.same, "participants": []events.Account{igCarol}})(w)
		}, want: ok},
	{who: "instagram", what: "set presence as its account", subject: "crosstalk.cmd.instagram.presence.set",
		body: cmd(igAlice, map[string]any{"status": "active"}), want: ok},
	{who: "instagram", what: "send on another app's subject", subject: "crosstalk.cmd.messenger.message.send",
		body: inConv(crossConv, msBob, map[string]any{"text": "hi"}), want: natsRefused},
	{who: "instagram", what: "act as another app's account", subject: "crosstalk.cmd.instagram.presence.set",
		body: cmd(msBob, map[string]any{"status": "active"}), want: wrongApp},
	{who: "instagram", what: "erase its account", subject: "crosstalk.cmd.instagram.account.erase",
		body: cmd(igEve, nil), want: ok, check: stored("instagram/instagram-backend")},
	{who: "instagram", what: "erase another app's account", subject: "crosstalk.cmd.instagram.account.erase",
		body: cmd(msBob, nil), want: wrongApp},
	{who: "instagram", what: "erase on another app's subject", subject: "crosstalk.cmd.messenger.account.erase",
		body: cmd(msBob, nil), want: natsRefused},
	{who: "instagram", what: "publish into crosstalk.events.>", subject: "crosstalk.events.conv.x",
		body: cmd(igAlice, nil), want: natsRefused},
	{who: "instagram", what: "publish a policy", subject: "crosstalk.admin.policy.publish",
		body: policyDoc("v2-2023-12-cross-app-disconnect.json"), want: natsRefused},
	{who: "instagram", what: "rebuild the views", subject: "crosstalk.admin.views.rebuild", body: emptyBody, want: natsRefused},
	{who: "instagram", what: "publish a policy through its command subjects", subject: "crosstalk.cmd.instagram.policy.publish",
		body: policyDoc("v2-2023-12-cross-app-disconnect.json"), want: noResponders},
	{who: "instagram", what: "purge the stream", subject: "$JS.API.STREAM.PURGE.CROSSTALK", body: func(*idWorld) any { return map[string]any{} }, want: natsRefused},
	{who: "instagram", what: "read the stream", subject: "$JS.API.STREAM.MSG.GET.CROSSTALK", body: func(*idWorld) any { return map[string]any{"seq": 1} }, want: natsRefused},
	{who: "instagram", what: "delete the stream", subject: "$JS.API.STREAM.DELETE.CROSSTALK", body: func(*idWorld) any { return map[string]any{} }, want: natsRefused},
	{who: "instagram", what: "read its account's inbox", subject: "crosstalk.query.inbox", body: inbox(igZoe), want: ok},
	{who: "instagram", what: "read another app's inbox", subject: "crosstalk.query.inbox", body: inbox(msBob), want: forbidden},
	{who: "instagram", what: "export another app's account", subject: "crosstalk.query.export", body: inbox(msBob), want: forbidden},
	{who: "instagram", what: "read a conversation of its accounts", subject: "crosstalk.query.conversation", body: conversation(sameConv), want: ok},

	// The other app, likewise.
	{who: "messenger", what: "set presence as its account", subject: "crosstalk.cmd.messenger.presence.set",
		body: cmd(msBob, map[string]any{"status": "active"}), want: ok, check: stored("messenger/messenger-backend")},
	{who: "messenger", what: "read a conversation without its accounts", subject: "crosstalk.query.conversation", body: conversation(sameConv), want: forbidden},
	{who: "messenger", what: "read messages as a non-participant", subject: "crosstalk.query.messages", body: messages(sameConv, msBob), want: notPart},
	{who: "messenger", what: "read a conversation with its account", subject: "crosstalk.query.conversation", body: conversation(crossConv), want: ok},

	// The end user acts and views only as itself.
	{who: "instagram:alice", what: "send as itself", subject: "crosstalk.cmd.instagram.message.send",
		body: inConv(crossConv, igAlice, map[string]any{"text": "hello bob"}), want: ok, check: stored("instagram/instagram:alice")},
	{who: "instagram:alice", what: "send as another account of its app", subject: "crosstalk.cmd.instagram.message.send",
		body: inConv(sameConv, igZoe, map[string]any{"text": "I am zoe"}), want: forbidden},
	{who: "instagram:alice", what: "act as another app's account", subject: "crosstalk.cmd.instagram.presence.set",
		body: cmd(msBob, map[string]any{"status": "offline"}), want: wrongApp},
	{who: "instagram:alice", what: "send on another app's subject", subject: "crosstalk.cmd.messenger.presence.set",
		body: cmd(msBob, map[string]any{"status": "offline"}), want: natsRefused},
	{who: "instagram:alice", what: "publish into crosstalk.events.>", subject: "crosstalk.events.account.instagram.alice",
		body: cmd(igAlice, nil), want: natsRefused},
	{who: "instagram:alice", what: "read its inbox", subject: "crosstalk.query.inbox", body: inbox(igAlice), want: ok, check: answered(`"conversation_id"`)},
	{who: "instagram:alice", what: "read another's inbox", subject: "crosstalk.query.inbox", body: inbox(igZoe), want: forbidden},
	{who: "instagram:alice", what: "export itself", subject: "crosstalk.query.export", body: inbox(igAlice), want: ok, check: answered(`"policy_version"`)},
	{who: "instagram:alice", what: "export another", subject: "crosstalk.query.export", body: inbox(igZoe), want: forbidden},
	{who: "instagram:alice", what: "read messages of its conversation", subject: "crosstalk.query.messages",
		body: messages(crossConv, igAlice), want: ok, check: answered("hello bob")},
	{who: "instagram:alice", what: "read messages as another viewer", subject: "crosstalk.query.messages", body: messages(crossConv, msBob), want: forbidden},
	{who: "instagram:alice", what: "read messages of a conversation without it", subject: "crosstalk.query.messages", body: messages(sameConv, igAlice), want: notPart},
	{who: "instagram:alice", what: "read its conversation", subject: "crosstalk.query.conversation", body: conversation(crossConv), want: ok},
	{who: "instagram:alice", what: "read a conversation without it", subject: "crosstalk.query.conversation", body: conversation(sameConv), want: forbidden},
	{who: "instagram:alice", what: "see presence as itself", subject: "crosstalk.query.presence", body: presence(igAlice, msBob), want: ok, check: answered(`"visible":true`)},
	{who: "instagram:alice", what: "see presence naming no viewer", subject: "crosstalk.query.presence",
		body: qry(func(*idWorld) map[string]any { return map[string]any{"account": string(msBob)} }), want: ok, check: answered(`"visible":true`)},
	{who: "instagram:alice", what: "query status", subject: "crosstalk.query.status", body: qry(func(*idWorld) map[string]any { return map[string]any{} }), want: ok},
	{who: "instagram:alice", what: "publish a policy", subject: "crosstalk.admin.policy.publish",
		body: policyDoc("v2-2023-12-cross-app-disconnect.json"), want: natsRefused},

	// A forged Nats-Request-Info header changes nothing: nats-server
	// replaces it, and the step is answered as its real caller.
	{who: "instagram:alice", what: "forged header: act as another", subject: "crosstalk.cmd.instagram.message.send",
		forged: `{"acc":"instagram","user":"instagram-backend"}`,
		body:   inConv(sameConv, igZoe, map[string]any{"text": "forged"}), want: forbidden},
	{who: "instagram:alice", what: "forged header: send as itself", subject: "crosstalk.cmd.instagram.message.send",
		forged: `{"acc":"ADMIN","user":"admin"}`,
		body:   inConv(crossConv, igAlice, map[string]any{"text": "still me"}), want: ok, check: stored("instagram/instagram:alice")},
	{who: "messenger:bob", what: "forged header: read another's inbox", subject: "crosstalk.query.inbox",
		forged: `{"acc":"instagram","user":"instagram-backend"}`, body: inbox(igAlice), want: forbidden},
	{who: "messenger:bob", what: "send as itself", subject: "crosstalk.cmd.messenger.message.send",
		body: inConv(crossConv, msBob, map[string]any{"text": "hi alice"}), want: ok, check: stored("messenger/messenger:bob")},
	{who: "instagram:alice", what: "erase another account", subject: "crosstalk.cmd.instagram.account.erase",
		body: cmd(igZoe, nil), want: forbidden},
	{who: "instagram:alice", what: "erase itself", subject: "crosstalk.cmd.instagram.account.erase",
		body: cmd(igAlice, nil), want: ok, check: stored("instagram/instagram:alice")},
	{who: "admin", what: "export an account", subject: "crosstalk.query.export", body: inbox(igAlice), want: ok, check: answered(`"hi alice"`)},

	// The auditor reads the streams and changes nothing.
	{who: "auditor", what: "read stream info", subject: "$JS.API.STREAM.INFO.CROSSTALK", body: func(*idWorld) any { return map[string]any{} },
		want: ok, check: answered(`"name":"CROSSTALK"`)},
	{who: "auditor", what: "purge the stream", subject: "$JS.API.STREAM.PURGE.CROSSTALK", body: func(*idWorld) any { return map[string]any{} }, want: natsRefused},
	{who: "auditor", what: "delete a message", subject: "$JS.API.STREAM.MSG.DELETE.CROSSTALK", body: func(*idWorld) any { return map[string]any{"seq": 1} }, want: natsRefused},
	{who: "auditor", what: "create a consumer on the service's stream", subject: natsconf.ServiceAPIPrefix + ".CONSUMER.CREATE.CROSSTALK",
		body: func(*idWorld) any { return map[string]any{"stream_name": "CROSSTALK"} }, want: natsRefused},
	{who: "auditor", what: "create a stream", subject: "$JS.API.STREAM.CREATE.LEAK", body: func(*idWorld) any { return map[string]any{} }, want: natsRefused},
	{who: "auditor", what: "publish into crosstalk.events.>", subject: "crosstalk.events.conv.x", body: cmd(igAlice, nil), want: natsRefused},
	{who: "auditor", what: "send a command", subject: "crosstalk.cmd.instagram.presence.set",
		body: cmd(igAlice, map[string]any{"status": "active"}), want: natsRefused},

	// The service's own account crossed no import: it may publish, not act
	// as an account.
	{who: "service", what: "send a command", subject: "crosstalk.cmd.instagram.presence.set",
		body: cmd(igAlice, map[string]any{"status": "idle"}), want: forbidden},
	// What an app could do if an operator exported crosstalk.admin.> to it
	// by mistake: a request carrying the app's identity (written here by
	// hand, from inside the service's account, where nats-server keeps it)
	// is refused by the service, the second line.
	{who: "service", what: "an app publishing a policy, had it an import", subject: "crosstalk.admin.policy.publish",
		forged: `{"acc":"instagram","user":"instagram-backend"}`,
		body:   policyDoc("v2-2023-12-cross-app-disconnect.json"), want: forbidden},
	{who: "service", what: "an app rebuilding the views, had it an import", subject: "crosstalk.admin.views.rebuild",
		forged: `{"acc":"instagram","user":"instagram-backend"}`,
		body:   emptyBody, want: forbidden},
}

// emptyBody is the body of crosstalk.admin.views.rebuild.
func emptyBody(*idWorld) any { return map[string]any{} }

// TestIdentityMatrix walks the matrix against the real service on a
// nats-server running natsconf's configuration, each denial checked where
// it happens: the NATS server, no responders, or the service's 403.
func TestIdentityMatrix(t *testing.T) {
	w := newIDWorld(t)
	for i, s := range matrix {
		got, reply := w.do(t, s)
		if got != s.want {
			t.Fatalf("step %d, %s: %s: got %q, want %q\nreply: %s", i, s.who, s.what, got, s.want, reply)
		}
		if s.check != nil {
			s.check(t, w, reply)
		}
	}
	w.checkRejectionRecords(t)
	w.checkPrivacy(t)

	if nc, err := nats.Connect(w.url); err == nil {
		nc.Close()
		t.Fatal("an unauthenticated connection was accepted")
	}
	if nc, err := nats.Connect(w.url, nats.UserInfo("instagram:alice", "guessed")); err == nil {
		nc.Close()
		t.Fatal("a wrong password was accepted")
	}
}

// checkPrivacy publishes policy v2 as the admin and checks the seed's
// privacy rule against a client that lies: a Messenger end user asking
// Alice's presence as instagram:eve is answered as itself.
func (w *idWorld) checkPrivacy(t *testing.T) {
	w.h.clock.Set(dec12)
	if got, reply := w.do(t, step{who: "admin", subject: "crosstalk.admin.policy.publish",
		body: policyDoc("v2-2023-12-cross-app-disconnect.json")}); got != ok {
		t.Fatalf("publish v2: %s %s", got, reply)
	}
	w.h.clock.Set(dec15)
	w.h.waitApplied(2)
	for _, s := range []step{
		{who: "messenger:bob", what: "presence of alice claiming viewer instagram:eve", subject: "crosstalk.query.presence",
			body: presence(igEve, igAlice), want: ok, check: answered(`{"visible":false}`)},
		{who: "messenger", what: "presence of alice as instagram:eve", subject: "crosstalk.query.presence",
			body: presence(igEve, igAlice), want: forbidden},
		{who: "instagram", what: "presence of alice as instagram:eve", subject: "crosstalk.query.presence",
			body: presence(igEve, igAlice), want: ok, check: answered(`"visible":true`)},
	} {
		if got, reply := w.do(t, s); got != s.want {
			t.Fatalf("%s: %s: got %q, want %q\nreply: %s", s.who, s.what, got, s.want, reply)
		} else if s.check != nil {
			s.check(t, w, reply)
		}
	}
	// The closing v2 decided carries the service as its principal.
	m, err := w.h.log.Load(w.h.ctx, events.ConversationSubject(w.cross), 0)
	if err != nil || len(m) == 0 {
		t.Fatalf("load the cross-app conversation: %d events, %v", len(m), err)
	}
	last, err := events.Decode(m[len(m)-1].Data)
	if err != nil || last.Type != events.ConversationClosed || last.Principal != "service" {
		t.Fatalf("the closing records principal %q (%s, %v), want service", last.Principal, last.Type, err)
	}
}

// checkRejectionRecords checks that the refused commands' records name
// the refused principal.
func (w *idWorld) checkRejectionRecords(t *testing.T) {
	ctx, cancel := context.WithTimeout(w.h.ctx, 5*time.Second)
	defer cancel()
	if err := w.h.audit.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	err := w.h.audit.Read(ctx, "", func(m events.Message) error {
		e, err := events.Decode(m.Data)
		if err != nil {
			return err
		}
		var d events.CommandRejectedData
		if err := e.DecodeData(&d); err != nil {
			return err
		}
		got[e.Principal+" "+d.Code+" "+string(d.Actor)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"instagram/instagram-backend wrong_app messenger:bob",
		"instagram/instagram:alice forbidden instagram:zoe",
		"instagram/instagram:alice wrong_app messenger:bob",
		"service forbidden instagram:alice",
	} {
		if !got[want] {
			t.Errorf("no rejection record %q; records: %v", want, got)
		}
	}
}

func newIDWorld(t *testing.T) *idWorld {
	t.Helper()
	return newIDWorldWith(t)
}

// newIDWorldWith is newIDWorld whose configuration also holds extra
// principals (a second end user of an app, say).
func newIDWorldWith(t *testing.T, extra ...natsconf.Credential) *idWorld {
	t.Helper()
	cfg, err := natsconf.Generate(seed.Apps, seed.SampleUsers, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credentials = append(cfg.Credentials, extra...)
	dir := t.TempDir()
	if err := cfg.WriteDir(dir, "127.0.0.1:4222"); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(filepath.Join(dir, natsconf.ConfFile))
	if err != nil {
		t.Fatal(err)
	}
	opts.Port, opts.StoreDir, opts.NoLog, opts.NoSigs = -1, t.TempDir(), true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(srv.Shutdown)
	w := &idWorld{cfg: cfg, url: srv.ClientURL(), conns: map[string]*idConn{},
		cross: uuid.NewString(), same: uuid.NewString()}
	svc := w.conn(t, natsconf.PrincipalService)
	w.h = &harness{t: t, clock: clock.NewSim(seedStart), ctx: context.Background(), viewsD: t.TempDir(),
		nc: svc.nc, c: client.New(svc.nc)}
	w.h.start(service.Options{EnforceIdentity: true})
	// the auditor reads its copies in account AUDIT, which the service makes
	if _, err := natsconf.EnsureMirrors(w.h.ctx, svc.nc); err != nil {
		t.Fatal(err)
	}
	return w
}

// conn is principal's connection, made on first use, with a connection
// name that lies: identity never comes from it.
func (w *idWorld) conn(t *testing.T, principal string) *idConn {
	t.Helper()
	if c, ok := w.conns[principal]; ok {
		return c
	}
	cr, err := w.cfg.Lookup(principal)
	if err != nil {
		t.Fatal(err)
	}
	c := &idConn{errs: make(chan error, 16)}
	c.nc, err = nats.Connect(w.url, nats.UserInfo(cr.User, cr.Password), nats.Name("ADMIN/admin"),
		headerguard.Option(&headerguard.Dialer{}),
		nats.CustomInboxPrefix(cr.InboxPrefix),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case c.errs <- err:
			default:
			}
		}))
	if err != nil {
		t.Fatalf("connect as %s: %v", principal, err)
	}
	t.Cleanup(c.nc.Close)
	w.conns[principal] = c
	return c
}

// do runs one step and says where it was decided.
func (w *idWorld) do(t *testing.T, s step) (string, []byte) {
	t.Helper()
	c := w.conn(t, s.who)
	for len(c.errs) > 0 {
		<-c.errs
	}
	data, err := json.Marshal(s.body(w))
	if err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: s.subject, Data: data, Header: nats.Header{}}
	if s.forged != "" {
		msg.Header.Set(identity.RequestInfoHeader, s.forged)
	}
	type result struct {
		m   *nats.Msg
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := c.nc.RequestMsg(msg, 5*time.Second)
		done <- result{m, err}
	}()
	select {
	case err := <-c.errs:
		if strings.Contains(err.Error(), "Permissions Violation") {
			return natsRefused, []byte(err.Error())
		}
		t.Fatalf("%s: %s: asynchronous error %v", s.who, s.what, err)
	case r := <-done:
		return outcome(r.m, r.err)
	}
	return "", nil
}

// outcome classifies a reply: ok, no responders, or the service's status
// and code.
func outcome(m *nats.Msg, err error) (string, []byte) {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return noResponders, nil
	case err != nil:
		return err.Error(), nil
	}
	status := m.Header.Get(micro.ErrorCodeHeader)
	if status == "" {
		return ok, m.Data
	}
	var body api.ErrorBody
	_ = json.Unmarshal(m.Data, &body)
	return status + " " + body.Error.Code, m.Data
}

// A service that is to enforce identities refuses to run on a connection
// that does not read through headerguard: nats.go alone can be made to see
// a caller nats-server never wrote (internal/rawattack).
func TestEnforcingServiceNeedsAGuardedConnection(t *testing.T) {
	srv := natstest.Start(t)
	nc := srv.Connect(t)
	store, err := projector.Open(projector.Options{Dir: t.TempDir(), Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc := service.New(nc, nil, store, service.Options{EnforceIdentity: true, Logger: testkit.Quiet()})
	if err := svc.Run(context.Background()); !errors.Is(err, service.ErrUnguarded) {
		t.Fatalf("Run on an unguarded connection: %v, want ErrUnguarded", err)
	}
}
