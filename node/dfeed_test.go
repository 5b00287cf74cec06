package node_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/node/nodetest"
)

// Under an identity configuration a node keeps each app's durable feed and
// makes the app account's copy, which the app's backend reads with a
// durable consumer of its own: the notes of its accounts, without text.
func TestNodeKeepsDurableFeedsForAppBackends(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts, c := nodetest.IdentityOptions(t)
	opts.DurableFeeds = true
	n := runNode(ctx, t, opts)
	cr, _ := c.Lookup("instagram")
	nc, err := nats.Connect(n.Conn().ConnectedUrl(), nats.UserInfo(cr.User, cr.Password), nats.CustomInboxPrefix(cr.InboxPrefix))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	cl := client.New(nc)
	r, err := cl.Command(ctx, "instagram", "conversation.start", map[string]any{
		"command_id": uuid.NewString(), "actor": "instagram:alice", "participants": []string{"instagram:carol"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Command(ctx, "instagram", "message.send", map[string]any{"command_id": uuid.NewString(),
		"actor": "instagram:alice", "conversation_id": r.ConversationID, "text": "SENTINEL-node-dfeed"}); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var got []client.DurableNotification
	rctx, done := context.WithCancel(ctx)
	err = client.DurableFeed(rctx, js, "instagram", "backend", 0, func(_ context.Context, d client.DurableNotification) error {
		if got = append(got, d); len(got) == 4 {
			done()
		}
		return nil
	})
	if err != nil || len(got) != 4 {
		t.Fatalf("the backend read %d notes, %v", len(got), err)
	}
	for _, d := range got {
		if d.Text != "" || d.ConversationID != r.ConversationID || (d.Kind != api.NoteConversationStarted && d.Kind != api.NoteMessageSent) {
			t.Errorf("%s: %+v", d.Viewer, d.Notification)
		}
	}
}

// A node keeps a durable feed per app by default (in development mode,
// the seed's apps), and none without DurableFeeds.
func TestNodeDurableFeedsOnAndOff(t *testing.T) {
	ctx := context.Background()
	for _, disable := range []bool{false, true} {
		n, err := node.Start(ctx, node.Options{Dir: t.TempDir(), Listen: "127.0.0.1:0", Logger: testkit.Quiet(), DurableFeeds: !disable})
		if err != nil {
			t.Fatal(err)
		}
		js, err := jetstream.New(n.Conn())
		if err != nil {
			t.Fatal(err)
		}
		for _, app := range seed.Apps {
			_, err := js.Stream(ctx, api.DurableFeedStream(app))
			if disable != errors.Is(err, jetstream.ErrStreamNotFound) || (!disable && err != nil) {
				t.Errorf("durable feeds disabled=%v: stream %s: %v", disable, api.DurableFeedStream(app), err)
			}
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// An online rebuild does not store the durable feed's notes again: the
// stream holds each note once, and what follows the rebuild once.
func TestOnlineRebuildKeepsDurableFeedsOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, r, stop := startWithConversation(ctx, t, t.TempDir(), func(o *node.Options) { o.DurableFeeds = true })
	defer func() { _ = stop() }()
	c := client.New(n.Conn())
	rebuildAndWait(ctx, t, c)
	sent, err := c.Command(ctx, "instagram", "message.send", map[string]any{"command_id": uuid.NewString(),
		"actor": "instagram:alice", "conversation_id": r.ConversationID, "text": "after the rebuild"})
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(n.Conn())
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	rctx, done := context.WithCancel(ctx)
	err = client.DurableFeed(rctx, js, "instagram", "check", 0, func(_ context.Context, d client.DurableNotification) error {
		seqs = append(seqs, d.Seq)
		if len(seqs) >= 2 && d.Seq == sent.StreamSeq && seqs[len(seqs)-2] == sent.StreamSeq { // alice's and bob's: in order, so all before are in
			done()
		}
		return nil
	})
	if err != nil || !slices.Equal(seqs, []uint64{r.StreamSeq, r.StreamSeq, sent.StreamSeq, sent.StreamSeq}) {
		t.Errorf("instagram's durable feed holds the notes of seqs %v (%v), want two of %d then two of %d", seqs, err, r.StreamSeq, sent.StreamSeq)
	}
}
