package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/seal"
)

// backupNode runs a node on dir for one step of a backup story.
type backupNode struct {
	n    *node.Node
	c    *client.Client
	stop func() error
}

func startBackupNode(ctx context.Context, t *testing.T, dir string) *backupNode {
	t.Helper()
	n, err := node.Start(ctx, node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := n.Background(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &backupNode{n: n, c: client.New(n.Conn()), stop: stop}
}

func (b *backupNode) command(ctx context.Context, t *testing.T, action string, body map[string]any) api.CommandReply {
	t.Helper()
	body["command_id"] = uuid.NewString()
	r, err := b.c.Command(ctx, "instagram", action, body)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return r
}

// texts is what bob reads of the conversation, once the views hold the
// whole log: each item's text, or its erasure's reason.
func (b *backupNode) texts(ctx context.Context, t *testing.T, conv string) []string {
	t.Helper()
	last, err := b.n.Log().LastSeq(ctx)
	if err == nil {
		err = b.n.Store().WaitFor(ctx, last)
	}
	var page api.MessagePage
	if err == nil {
		err = b.c.Query(ctx, "messages", api.MessagesQuery{ConversationID: conv, Viewer: "instagram:bob"}, &page)
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

// opened counts account's sealed messages in the log that its keys open:
// what a restored keys stream gives back, whatever the views say.
func (b *backupNode) opened(ctx context.Context, t *testing.T, account string) int {
	t.Helper()
	n := 0
	err := audit.WalkAll(ctx, b.n.Log(), audit.EachMessage(func(m events.Message) error {
		ev, err := events.Decode(m.Data)
		var d events.MessageSentData
		if err != nil || ev.Type != events.MessageSent || ev.DecodeData(&d) != nil || string(d.Sender) != account {
			return nil
		}
		ad := seal.AD(events.ConversationSubject(ev.Subject), string(ev.Type), ev.ID, account)
		if _, err := b.n.Keys().Open(ctx, keyring.Scope{Account: account, Conversation: ev.Subject}, ad, d.Sealed); err == nil {
			n++
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (b *backupNode) halt(t *testing.T) {
	t.Helper()
	if err := b.stop(); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies the directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		to := filepath.Join(dst, strings.TrimPrefix(path, src))
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// restore replaces stream name in dir's JetStream store by its copy in
// backup, and drops the views, which the next start rebuilds from the log.
func restore(t *testing.T, dir, backup, name string) {
	t.Helper()
	live := filepath.Join(dir, "jetstream", "jetstream", "$G", "streams", name)
	if err := os.RemoveAll(live); err != nil {
		t.Fatal(err)
	}
	copyTree(t, filepath.Join(backup, name), live)
	for _, v := range []string{"views", "views.rebuild", "views.current"} {
		if err := os.RemoveAll(filepath.Join(dir, v)); err != nil {
			t.Fatal(err)
		}
	}
}

// Backups taken before an erasure stay erased when restored after it. A
// backup of the keys stream brings the erased keys back (the erased
// messages read again) until 'crosstalk keys reerase' applies the log's
// erasures to it; a backup of the event stream holds no key, and restored
// beside the erased keys it reads as erased. The other account's messages
// read throughout.
func TestBackupsTakenBeforeAnErasureStayErased(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, backup := t.TempDir(), t.TempDir()
	b := startBackupNode(ctx, t, dir)
	conv := b.command(ctx, t, "conversation.start", map[string]any{"actor": "instagram:ann", "participants": []string{"instagram:bob"}}).ConversationID
	for _, m := range [][2]string{{"instagram:ann", "ann one"}, {"instagram:bob", "bob one"}, {"instagram:ann", "ann two"}} {
		b.command(ctx, t, "message.send", map[string]any{"actor": m[0], "conversation_id": conv, "text": m[1]})
	}
	b.halt(t)
	streams := filepath.Join(dir, "jetstream", "jetstream", "$G", "streams")
	for _, s := range []string{"CROSSTALK", "CROSSTALK_KEYS"} {
		copyTree(t, filepath.Join(streams, s), filepath.Join(backup, s))
	}
	b = startBackupNode(ctx, t, dir)
	b.command(ctx, t, "account.erase", map[string]any{"actor": "instagram:ann"})
	want := "erased:account_erased bob one erased:account_erased"
	if got := b.texts(ctx, t, conv); strings.Join(got, " ") != want {
		t.Fatalf("after the erasure: %q", got)
	}
	if n := b.opened(ctx, t, "instagram:ann"); n != 0 {
		t.Fatalf("%d of ann's messages open after her erasure", n)
	}
	b.halt(t)

	restore(t, dir, backup, "CROSSTALK_KEYS")
	b = startBackupNode(ctx, t, dir)
	if n := b.opened(ctx, t, "instagram:ann"); n != 2 {
		t.Fatalf("the keys restored from before the erasure open %d of ann's 2 messages: the test proves nothing", n)
	}
	b.halt(t)
	if out, errOut, err := runCLI(ctx, "keys", "reerase", "--data", dir); err != nil || !strings.Contains(out, "re-erased: 1 trees") {
		t.Fatalf("keys reerase: %v\n%s%s", err, out, errOut)
	}
	b = startBackupNode(ctx, t, dir)
	if got := b.texts(ctx, t, conv); strings.Join(got, " ") != want || b.opened(ctx, t, "instagram:ann") != 0 ||
		b.opened(ctx, t, "instagram:bob") != 1 {
		t.Fatalf("after reerase: %q, ann's open: %d", got, b.opened(ctx, t, "instagram:ann"))
	}
	b.halt(t)

	restore(t, dir, backup, "CROSSTALK")
	b = startBackupNode(ctx, t, dir)
	if got := b.texts(ctx, t, conv); strings.Join(got, " ") != "erased:key_erased bob one erased:key_erased" {
		t.Fatalf("the event stream restored from before the erasure: %q", got)
	}
	b.halt(t)
}
