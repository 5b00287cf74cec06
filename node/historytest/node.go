package historytest

import (
	"context"
	"encoding/json"
	"github.com/crosstalk-dev/crosstalk/clock"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// Node is a real crosstalk node (see StartNode) on an in-process
// nats-server and a Pebble store, driven through NATS like any producer.
type Node struct {
	T          *testing.T
	Ctx        context.Context
	Log        *eventlog.Log
	Rejections *eventlog.Rejections
	Store      *projector.Store
	C          *client.Client
	Clock      *clock.Sim
}

// Cmd sends a command as actor and fails the test if it is refused.
func (n *Node) Cmd(actor events.Account, action string, body map[string]any) api.CommandReply {
	n.T.Helper()
	body["command_id"] = uuid.NewString()
	body["actor"] = actor
	n.Clock.Advance(time.Minute)
	r, err := n.C.Command(n.Ctx, string(actor.App()), action, body)
	if err != nil {
		n.T.Fatalf("%s by %s: %v", action, actor, err)
	}
	return r
}

// Chat starts a conversation of by with others and exchanges a message
// from each participant; each reads the last one.
func (n *Node) Chat(by events.Account, others ...events.Account) string {
	n.T.Helper()
	id := n.Cmd(by, "conversation.start", map[string]any{"participants": others}).ConversationID
	var last string
	for _, a := range append([]events.Account{by}, others...) {
		last = n.Cmd(a, "message.send", map[string]any{"conversation_id": id, "text": "hello from " + string(a)}).MessageID
	}
	n.Cmd(by, "message.read", map[string]any{"conversation_id": id, "message_id": last})
	return id
}

// Publish publishes the seed policy file.
func (n *Node) Publish(file string) api.PublishReply {
	n.T.Helper()
	data, err := policies.Read(file)
	if err != nil {
		n.T.Fatal(err)
	}
	r, err := n.C.PublishPolicy(n.Ctx, uuid.NewString(), json.RawMessage(data))
	if err != nil {
		n.T.Fatalf("publish %s: %v", file, err)
	}
	return r
}

// PolicyReport asks crosstalk.query.policy.
func (n *Node) PolicyReport() api.PolicyReport {
	n.T.Helper()
	rep, err := n.queryPolicy()
	if err != nil {
		n.T.Fatal(err)
	}
	return rep
}

func (n *Node) queryPolicy() (api.PolicyReport, error) {
	var rep api.PolicyReport
	err := n.C.Query(n.Ctx, "policy", map[string]any{}, &rep)
	return rep, err
}

// WaitPolicyApplied waits until crosstalk.query.policy reports version v
// applied, and fails the test unless v is then the version in force.
func (n *Node) WaitPolicyApplied(v uint64) {
	n.T.Helper()
	if st := testkit.WaitPolicyApplied(n.T, n.queryPolicy, v); !st.InForce {
		n.T.Fatalf("policy version %d applied but not in force: %+v", v, n.PolicyReport())
	}
}

// Inbox returns the conversation ids in a's inbox, as of the whole log.
func (n *Node) Inbox(a events.Account) []string {
	n.T.Helper()
	var ids []string
	cursor := ""
	for {
		var page api.InboxPage
		req := map[string]any{"account": a, "limit": 200, "min_seq": n.LastSeq()}
		if cursor != "" {
			req["cursor"] = cursor
		}
		if err := n.C.Query(n.Ctx, "inbox", req, &page); err != nil {
			n.T.Fatal(err)
		}
		for _, it := range page.Items {
			ids = append(ids, it.ConversationID)
		}
		if cursor = page.NextCursor; cursor == "" {
			slices.Sort(ids)
			return ids
		}
	}
}

// LastSeq is the stream's last sequence.
func (n *Node) LastSeq() uint64 {
	n.T.Helper()
	last, err := n.Log.LastSeq(n.Ctx)
	if err != nil {
		n.T.Fatal(err)
	}
	return last
}
