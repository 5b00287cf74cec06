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
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/node/nodetest"
	"github.com/crosstalk-dev/crosstalk/service"
)

// live is a node serving on a NATS server for one step of a story.
type live struct{ *nodetest.Live }

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
	return &live{nodetest.Start(ctx, t, o)}
}

// history writes the story a backup must keep: a conversation of sealed
// messages sent as requests and through the intake (its stream and
// outcomes), enough events for snapshots, and a refused command. It
// returns the conversation.
func (l *live) history(ctx context.Context, t *testing.T) string {
	t.Helper()
	conv := l.Command(ctx, t, "conversation.start", map[string]any{"actor": "instagram:ann",
		"participants": []string{"instagram:bob"}}).ConversationID
	for i, text := range []string{"ann one", "bob one", "ann two", "bob two"} {
		actor := []string{"instagram:ann", "instagram:bob"}[i%2]
		l.Command(ctx, t, "message.send", map[string]any{"actor": actor, "conversation_id": conv, "text": text})
	}
	_, err := l.Client.Command(ctx, "instagram", "message.send", map[string]any{"command_id": uuid.NewString(),
		"actor": "instagram:carol", "conversation_id": conv, "text": "not a participant"})
	if err == nil {
		t.Fatal("carol's send was accepted: the story needs a refused command")
	}
	js, err := jetstream.New(l.Node.Conn())
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

// texts is what bob reads of conv once the views hold the whole log.
func (l *live) texts(ctx context.Context, t *testing.T, conv string) []string {
	t.Helper()
	return l.Texts(ctx, t, conv, "instagram:bob")
}

// backUp writes the history, backs it up into bdir and halts the node; it
// returns the conversation and what bob read of it before the backup.
func (l *live) backUp(ctx context.Context, t *testing.T, bdir string) (conv string, want []string, m backup.Manifest) {
	t.Helper()
	conv = l.history(ctx, t)
	want = l.texts(ctx, t, conv)
	m, err := backup.Backup(ctx, l.Node.Conn(), backup.Options{Dir: bdir, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Halt(); err != nil {
		t.Fatal(err)
	}
	return conv, want, m
}

// readsAsBefore starts a node on url with dir's master key and a fresh
// directory, and checks that bob reads conv there as want.
func readsAsBefore(ctx context.Context, t *testing.T, url, dir, conv string, want []string) {
	t.Helper()
	restored := start(ctx, t, url, t.TempDir(), masterKey(dir), nil)
	if got := restored.texts(ctx, t, conv); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("the restored node reads %q; the backed-up one read %q", got, want)
	}
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
