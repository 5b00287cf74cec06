package nodetest

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/seal"
)

// Live is a node serving in the background with a client on its own
// connection: one step of a story that stops a node on its directory and
// starts another there (an erasure, a restore).
type Live struct {
	Node   *node.Node
	Client *client.Client
	stop   func() error
}

// Start starts a node with opts and serves it in the background. A failed
// start fails the test; a node the test has not halted is halted when the
// test ends, an error at that stop reported.
func Start(ctx context.Context, t testing.TB, opts node.Options) *Live {
	t.Helper()
	n, err := node.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := n.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l := &Live{Node: n, Client: client.New(n.Conn()), stop: stop}
	t.Cleanup(func() {
		if err := l.Halt(); err != nil {
			t.Errorf("node: %v", err)
		}
	})
	return l
}

// Halt stops the node and returns the stop's error; later calls do
// nothing and return nil, so a test may halt a node before its end.
func (l *Live) Halt() error {
	stop := l.stop
	if stop == nil {
		return nil
	}
	l.stop = nil
	return stop()
}

// Command sends action with body, given a fresh command_id, as the
// backend of the app of body's actor, and fails the test if it is
// refused: each command of a story is a new one that must succeed.
func (l *Live) Command(ctx context.Context, t testing.TB, action string, body map[string]any) api.CommandReply {
	t.Helper()
	actor, _ := body["actor"].(string)
	if actor == "" {
		t.Fatalf("%s: the body names no actor", action)
	}
	body["command_id"] = uuid.NewString()
	r, err := l.Client.Command(ctx, string(events.Account(actor).App()), action, body)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return r
}

// Texts is what viewer reads of conv once the views hold the whole log
// (every stream of it, partitioned or not): each message's text, or
// "erased:" and its erasure's reason.
func (l *Live) Texts(ctx context.Context, t testing.TB, conv, viewer string) []string {
	t.Helper()
	last, err := l.Node.Log().LastSeqs(ctx)
	if err == nil {
		err = l.Node.Store().WaitForAll(ctx, last)
	}
	var page api.MessagePage
	if err == nil {
		err = l.Client.Query(ctx, api.QueryMessages, api.MessagesQuery{ConversationID: conv, Viewer: viewer}, &page)
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range page.Items {
		if m.Erased != nil {
			out = append(out, "erased:"+m.Erased.Reason)
			continue
		}
		out = append(out, m.Text)
	}
	return out
}

// Opened counts account's sealed messages in the log that the node's keys
// open: what the keys stream holds of the account, whatever the views say
// (a keys stream restored from a backup brings erased keys back).
func (l *Live) Opened(ctx context.Context, t testing.TB, account string) int {
	t.Helper()
	n := 0
	err := audit.WalkAll(ctx, l.Node.Log(), audit.EachMessage(func(m events.Message) error {
		ev, err := events.Decode(m.Data)
		var d events.MessageSentData
		if err != nil || ev.Type != events.MessageSent || ev.DecodeData(&d) != nil || string(d.Sender) != account {
			return nil
		}
		ad := seal.AD(events.ConversationSubject(ev.Subject), string(ev.Type), ev.ID, account)
		scope := keyring.Scope{Account: account, Conversation: ev.Subject}
		if _, err := l.Node.Keys().Open(ctx, scope, ad, d.Sealed); err == nil {
			n++
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
