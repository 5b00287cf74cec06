package node_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/node/nodetest"
)

// erasureNode is a node on dir with two accounts in one conversation.
type erasureNode struct {
	*nodetest.Live
	last api.Position // the last command's position
}

func startErasureNode(ctx context.Context, t *testing.T, dir string) *erasureNode {
	t.Helper()
	return &erasureNode{Live: nodetest.Start(ctx, t, node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet()})}
}

func (e *erasureNode) command(ctx context.Context, t *testing.T, action string, body map[string]any) api.CommandReply {
	t.Helper()
	r := e.Command(ctx, t, action, body)
	e.last = r.Position
	return r
}

// position is where a query must be for the last command's effects.
func (e *erasureNode) position(context.Context, *testing.T) api.Position { return e.last }

// checksum is the running node's audit checksum up to seq.
func (e *erasureNode) checksum(ctx context.Context, t *testing.T, seq uint64) string {
	t.Helper()
	sum, err := audit.Checksum(ctx, e.Node.Log(), seq)
	if err != nil {
		t.Fatal(err)
	}
	return sum.Hex
}

// sealedAt is the sealed text of the message.sent at seq.
func (e *erasureNode) sealedAt(ctx context.Context, t *testing.T, seq uint64) (events.Event, events.MessageSentData) {
	t.Helper()
	m, err := e.Node.Log().Get(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := events.Decode(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	var d events.MessageSentData
	if err := ev.DecodeData(&d); err != nil || ev.Type != events.MessageSent || d.Sealed == "" || d.Text != "" {
		t.Fatalf("event %d is not a sealed message.sent: %s %+v %v", seq, ev.Type, d, err)
	}
	return ev, d
}

// keyRecords is every tree record of CROSSTALK_KEYS, by sequence: the
// wrapped key material. The per-account index is left out: its messages
// name scopes' subjects, hashes, which stay in the stream's subject index.
func keyRecords(ctx context.Context, t *testing.T, e *erasureNode) map[uint64][]byte {
	t.Helper()
	js, err := jetstream.New(e.Node.Conn())
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, keyring.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64][]byte{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		if m, err := s.GetMsg(ctx, seq); err == nil && !strings.HasPrefix(m.Subject, "crosstalk.keys.account.") {
			out[seq] = m.Data
		}
	}
	return out
}

// verifyStopped checks the stopped node's history in dir: its chains,
// its signatures under the node's key and its views, and returns the
// checksum of its history up to seq.
func verifyStopped(ctx context.Context, t *testing.T, dir string, seq uint64) string {
	t.Helper()
	s, err := node.OpenStopped(ctx, node.StoppedOptions{Dir: dir, Views: true, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	signer, err := node.ReadSigningKey(node.Layout{Dir: dir}.SigningKey())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyWith(ctx, s.Log(), audit.VerifyOptions{Views: s.Views(), Keys: events.NewPublicKeys(signer.PublicKey())})
	if err != nil || rep.BreaksTotal != 0 || rep.Signatures.Verified == 0 || !rep.WithViews {
		t.Fatalf("verify after the erasure: %+v, %v", rep, err)
	}
	sum, err := audit.Checksum(ctx, s.Log(), seq)
	if err != nil {
		t.Fatal(err)
	}
	return sum.Hex
}

// The test: messages carrying a unique sentinel, the account
// erased, the node stopped, and every byte under the data directory (the
// JetStream files and Pebble's, WAL and SSTs included) searched for the
// sentinel and for the erased key material: neither is there, while the
// other account's key record is (the search finds what is there). The
// history verifies, signatures included, and its checksum up to the last
// event before the erasure is what it was before it.
func TestAccountErasureLeavesNothingUnderTheDataDirectory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	e := startErasureNode(ctx, t, dir)
	start := e.command(ctx, t, "conversation.start", map[string]any{"actor": "instagram:ann", "participants": []string{"instagram:bob"}})
	sentinel := "sentinel-" + strings.ReplaceAll(uuid.NewString(), "-", "")
	var last api.CommandReply
	for i := range 20 {
		last = e.command(ctx, t, "message.send", map[string]any{"actor": "instagram:ann",
			"conversation_id": start.ConversationID, "text": sentinel + " " + string(rune('a'+i))})
	}
	_, sealed := e.sealedAt(ctx, t, last.StreamSeq)
	e.command(ctx, t, "message.send", map[string]any{"actor": "instagram:bob",
		"conversation_id": start.ConversationID, "text": "bob keeps this"})
	tree, err := e.Node.Keys().Tree(ctx, keyring.Scope{Account: "instagram:ann", Conversation: start.ConversationID})
	if err != nil {
		t.Fatal(err)
	}
	rawTree, _ := tree.MarshalBinary()
	leafKey, _ := tree.Leaf(19)
	before := keyRecords(ctx, t, e)
	beforeSum := e.checksum(ctx, t, last.StreamSeq)
	e.command(ctx, t, "account.erase", map[string]any{"actor": "instagram:ann"})
	if _, err := e.Node.Keys().Open(ctx, keyring.Scope{Account: "instagram:ann", Conversation: start.ConversationID},
		nil, sealed.Sealed); !errors.Is(err, keyring.ErrErased) {
		t.Fatalf("the erased account's message opens: %v", err)
	}
	after := keyRecords(ctx, t, e)
	if err := e.Halt(); err != nil {
		t.Fatal(err)
	}
	for what, b := range map[string][]byte{"the sentinel": []byte(sentinel), "the erased tree unwrapped": rawTree, "a leaf key": leafKey[:]} {
		if testkit.OnDisk(t, dir, b) {
			t.Errorf("%s is under the data directory", what)
		}
	}
	checkRecords(t, dir, before, after)
	if got := verifyStopped(ctx, t, dir, last.StreamSeq); got != beforeSum {
		t.Errorf("the checksum up to seq %d changed with the erasure: %s, was %s", last.StreamSeq, got, beforeSum)
	}
}

// checkRecords checks that the key records erased between before and
// after are nowhere under dir, and that those kept are found there.
func checkRecords(t *testing.T, dir string, before, after map[uint64][]byte) {
	t.Helper()
	var erased, kept int
	for seq, rec := range before {
		_, ok := after[seq]
		switch found := testkit.OnDisk(t, dir, rec); {
		case ok && !found:
			t.Errorf("kept key record %d not found on disk: the search proves nothing", seq)
		case !ok && found:
			t.Errorf("erased key record %d is still on disk", seq)
		}
		if ok {
			kept++
		} else {
			erased++
		}
	}
	if erased == 0 || kept == 0 {
		t.Fatalf("%d records erased, %d kept: want some of each", erased, kept)
	}
}

// The same for one unsent message: its sentinel is nowhere under the data
// directory, its leaf no longer opens, and its neighbours still read.
func TestUnsendLeavesNothingOfItsMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	e := startErasureNode(ctx, t, dir)
	start := e.command(ctx, t, "conversation.start", map[string]any{"actor": "instagram:ann", "participants": []string{"instagram:bob"}})
	sentinel := "sentinel-" + strings.ReplaceAll(uuid.NewString(), "-", "")
	texts := []string{"before it", sentinel, "after it"}
	var sent []api.CommandReply
	for _, text := range texts {
		sent = append(sent, e.command(ctx, t, "message.send", map[string]any{"actor": "instagram:ann",
			"conversation_id": start.ConversationID, "text": text}))
	}
	before := keyRecords(ctx, t, e)
	e.command(ctx, t, "message.unsend", map[string]any{"actor": "instagram:ann",
		"conversation_id": start.ConversationID, "message_id": sent[1].MessageID})
	var page api.MessagePage
	if err := e.Client.Query(ctx, "messages", api.MessagesQuery{ConversationID: start.ConversationID, Viewer: "instagram:bob",
		QueryBase: api.QueryBase{After: e.position(ctx, t)}}, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.Items[0].Text != texts[0] || page.Items[2].Text != texts[2] ||
		page.Items[1].Text != "" || page.Items[1].Erased == nil || page.Items[1].Erased.Reason != api.ErasedUnsent {
		t.Fatalf("messages after the unsend: %+v", page.Items)
	}
	after := keyRecords(ctx, t, e)
	if err := e.Halt(); err != nil {
		t.Fatal(err)
	}
	if testkit.OnDisk(t, dir, []byte(sentinel)) {
		t.Error("the unsent message's sentinel is under the data directory")
	}
	for seq, rec := range before {
		if _, ok := after[seq]; !ok && testkit.OnDisk(t, dir, rec) {
			t.Errorf("the record before the puncture (seq %d) is still on disk", seq)
		}
	}
}

// History written before sealing existed (text in clear, no `sealed`) is
// read as it is stored; an erasure of its account hides it in every view,
// and the log keeps its bytes (docs/erasure.md, "History written before
// sealing"): the chain and the checksums cannot be kept otherwise.
func TestHistoryWrittenBeforeSealingReadsAsStored(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	e := startErasureNode(ctx, t, dir)
	start := e.command(ctx, t, "conversation.start", map[string]any{"actor": "instagram:ann", "participants": []string{"instagram:bob"}})
	first, err := e.Node.Log().Get(ctx, start.StreamSeq)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := events.New(events.MessageSent, start.ConversationID, time.Now(), uuid.NewString(), 0,
		events.MessageSentData{MessageID: uuid.NewString(), Sender: "instagram:ann", Text: "written in clear"})
	if err != nil {
		t.Fatal(err)
	}
	ev.ID, ev.StreamVersion, ev.PrevHash = uuid.NewString(), 2, events.Hash(first.Data)
	data, err := events.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	seq, _, err := e.Node.Log().Append(ctx, events.ConversationSubject(start.ConversationID), start.StreamSeq, "", data)
	if err != nil {
		t.Fatal(err)
	}
	read := func() api.MessageView {
		t.Helper()
		if err := e.Node.Store().WaitFor(ctx, seq); err != nil {
			t.Fatal(err)
		}
		var page api.MessagePage
		if err := e.Client.Query(ctx, "messages", api.MessagesQuery{ConversationID: start.ConversationID, Viewer: "instagram:bob",
			QueryBase: api.QueryBase{After: e.last}}, &page); err != nil || len(page.Items) != 1 {
			t.Fatalf("messages: %+v, %v", page, err)
		}
		return page.Items[0]
	}
	if m := read(); m.Text != "written in clear" || m.Erased != nil {
		t.Fatalf("a message written before sealing: %+v", m)
	}
	e.command(ctx, t, "account.erase", map[string]any{"actor": "instagram:ann"})
	if m := read(); m.Text != "" || m.Erased == nil || m.Erased.Reason != api.ErasedAccount {
		t.Fatalf("after its account's erasure: %+v", m)
	}
	if stored, err := e.Node.Log().Get(ctx, seq); err != nil || !strings.Contains(string(stored.Data), "written in clear") {
		t.Fatalf("the log keeps what was written in clear: %v", err)
	}
	if err := e.Halt(); err != nil {
		t.Fatal(err)
	}
}
