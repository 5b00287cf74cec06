package backup_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/backup"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/service"
)

// live is a node serving on a NATS server for one step of a story.
type live struct {
	n    *node.Node
	c    *client.Client
	stop func() error
}

// start runs a node on url with its data in dir (the master key: key, or
// dir's own when ""), snapshotting conversations every 2 events so that
// a short story fills the snapshots bucket.
func start(ctx context.Context, t *testing.T, url, dir, key string, edit func(*node.Options)) *live {
	t.Helper()
	o := node.Options{Dir: dir, NatsURL: url, MasterKey: key, Logger: testkit.Quiet(), Name: t.Name(),
		Service: service.Options{SnapshotEvery: 2}}
	if edit != nil {
		edit(&o)
	}
	n, err := node.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := n.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l := &live{n: n, c: client.New(n.Conn()), stop: stop}
	t.Cleanup(func() { _ = l.halt() })
	return l
}

// halt stops the node once; later calls do nothing.
func (l *live) halt() error {
	if l.stop == nil {
		return nil
	}
	stop := l.stop
	l.stop = nil
	return stop()
}

func (l *live) command(ctx context.Context, t *testing.T, action string, body map[string]any) api.CommandReply {
	t.Helper()
	body["command_id"] = uuid.NewString()
	r, err := l.c.Command(ctx, "instagram", action, body)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return r
}

// history writes the story a backup must keep: a conversation of sealed
// messages sent as requests and through the intake (its stream and
// outcomes), enough events for snapshots, and a refused command. It
// returns the conversation.
func (l *live) history(ctx context.Context, t *testing.T) string {
	t.Helper()
	conv := l.command(ctx, t, "conversation.start", map[string]any{"actor": "instagram:ann",
		"participants": []string{"instagram:bob"}}).ConversationID
	for i, text := range []string{"ann one", "bob one", "ann two", "bob two"} {
		actor := []string{"instagram:ann", "instagram:bob"}[i%2]
		l.command(ctx, t, "message.send", map[string]any{"actor": actor, "conversation_id": conv, "text": text})
	}
	_, err := l.c.Command(ctx, "instagram", "message.send", map[string]any{"command_id": uuid.NewString(),
		"actor": "instagram:carol", "conversation_id": conv, "text": "not a participant"})
	if err == nil {
		t.Fatal("carol's send was accepted: the story needs a refused command")
	}
	js, err := jetstream.New(l.n.Conn())
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"intake one", "intake two"} {
		id := uuid.NewString()
		body, _ := json.Marshal(map[string]any{"command_id": id, "actor": "instagram:ann", "conversation_id": conv, "text": text})
		if _, err := js.Publish(ctx, api.IntakeSubject("instagram", api.ActionMessageSend), body,
			jetstream.WithMsgID(api.IntakeMsgID("instagram", id))); err != nil {
			t.Fatal(err)
		}
	}
	for len(l.texts(ctx, t, conv)) < 6 {
		select {
		case <-ctx.Done():
			t.Fatalf("the intake's commands were not decided: %q", l.texts(ctx, t, conv))
		case <-time.After(20 * time.Millisecond):
		}
	}
	return conv
}

// texts is what bob reads of conv once the views hold the whole log: each
// message's text, or its erasure's reason.
func (l *live) texts(ctx context.Context, t *testing.T, conv string) []string {
	t.Helper()
	last, err := l.n.Log().LastSeqs(ctx)
	if err == nil {
		err = l.n.Store().WaitForAll(ctx, last)
	}
	var page api.MessagePage
	if err == nil {
		err = l.c.Query(ctx, "messages", api.MessagesQuery{ConversationID: conv, Viewer: "instagram:bob"}, &page)
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

// publicKey is the public half of the signing key in a node's data dir.
func publicKey(t *testing.T, dir string) *backup.PublicKey {
	t.Helper()
	signer, err := node.ReadSigningKey(node.Layout{Dir: dir}.SigningKey())
	if err != nil {
		t.Fatal(err)
	}
	pem, err := events.MarshalPublicKey(signer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return &backup.PublicKey{KeyID: signer.KeyID(), PEM: string(pem)}
}

// roles lists each stream of m as "ROLE:NAME", and each left out as "-NAME".
func roles(m backup.Manifest) string {
	var out []string
	for _, s := range m.Streams {
		out = append(out, string(s.Role)+":"+s.Name)
	}
	for _, l := range m.LeftOut {
		out = append(out, "-"+l.Name)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// masterKey is the master key file of a node's data directory.
func masterKey(dir string) string { return filepath.Join(dir, "master.key") }
