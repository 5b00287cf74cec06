package service_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/clock"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/seal"
	"github.com/crosstalk-dev/crosstalk/service"
)

// sealWorld is a harness whose service seals with a real keyring on the
// same nats-server.
type sealWorld struct {
	*harness
	ring *keyring.Ring
	conv string
}

func newSealWorld(t *testing.T) *sealWorld {
	t.Helper()
	h := &harness{t: t, clock: clock.NewSim(seedStart), ctx: context.Background()}
	h.srv = natstest.Start(t)
	h.viewsD = t.TempDir()
	h.nc = h.srv.Connect(t)
	h.c = client.New(h.nc)
	path := filepath.Join(t.TempDir(), "master.key")
	if err := keyring.CreateMaster(path); err != nil {
		t.Fatal(err)
	}
	master, err := keyring.ReadMaster(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(h.nc)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.Open(h.ctx, js, master, keyring.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ring.Close() })
	h.start(service.Options{Keys: ring})
	h.publishFile("v1-2020-cross-app.json")
	w := &sealWorld{harness: h, ring: ring}
	w.conv = h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	return w
}

// stored is the event appended at seq, and its bytes.
func (w *sealWorld) stored(seq uint64) (events.Event, []byte) {
	w.t.Helper()
	m, err := w.log.Get(w.ctx, seq)
	if err != nil {
		w.t.Fatal(err)
	}
	ev, err := events.Decode(m.Data)
	if err != nil {
		w.t.Fatal(err)
	}
	return ev, m.Data
}

// sealedAt is the sealed value of the event at seq and whose content it is.
func (w *sealWorld) sealedAt(seq uint64) (events.Event, string, events.Account) {
	w.t.Helper()
	ev, _ := w.stored(seq)
	switch ev.Type {
	case events.MessageSent:
		d, _ := events.DataOf[events.MessageSentData](ev)
		return ev, d.Sealed, d.Sender
	case events.MessageEdited:
		d, _ := events.DataOf[events.MessageEditedData](ev)
		return ev, d.Sealed, d.Editor
	case events.MessageReacted:
		d, _ := events.DataOf[events.MessageReactedData](ev)
		return ev, d.Sealed, d.Account
	}
	w.t.Fatalf("seq %d is a %s", seq, ev.Type)
	return ev, "", ""
}

// open opens the content of the event at seq with the ring, as the read
// side does.
func (w *sealWorld) open(seq uint64) (string, error) {
	w.t.Helper()
	ev, v, account := w.sealedAt(seq)
	if v == "" {
		w.t.Fatalf("seq %d holds nothing sealed: %s", seq, ev.Data)
	}
	ad := seal.AD(events.ConversationSubject(ev.Subject), string(ev.Type), ev.ID, string(account))
	return w.ring.Open(w.ctx, keyring.Scope{Account: string(account), Conversation: ev.Subject}, ad, v)
}

func (w *sealWorld) send(actor events.Account, conv, text string) uint64 {
	return w.must(actor, "message.send", map[string]any{"conversation_id": conv, "text": text}).StreamSeq
}

// A sent, edited or reacted content is stored sealed, never in clear, and
// opens with the ring to what was written; removing a reaction stays clear.
func TestSealedContentHoldsNoPlaintext(t *testing.T) {
	w := newSealWorld(t)
	r := w.must(alice, "message.send", map[string]any{"conversation_id": w.conv, "text": "sentinel-sent"})
	edit := w.must(alice, "message.edit", map[string]any{"conversation_id": w.conv, "message_id": r.MessageID, "text": "sentinel-edited"})
	react := w.must(bob, "message.react", map[string]any{"conversation_id": w.conv, "message_id": r.MessageID, "reaction": "sentinel-reaction"})
	for seq, want := range map[uint64]string{r.StreamSeq: "sentinel-sent", edit.StreamSeq: "sentinel-edited", react.StreamSeq: "sentinel-reaction"} {
		if _, raw := w.stored(seq); bytes.Contains(raw, []byte("sentinel")) {
			t.Errorf("seq %d holds the plaintext: %s", seq, raw)
		}
		if got, err := w.open(seq); err != nil || got != want {
			t.Errorf("seq %d opens to %q, %v; want %q", seq, got, err, want)
		}
	}
	if _, _, by := w.sealedAt(react.StreamSeq); by != bob {
		t.Errorf("reaction sealed for %s, want the reactor", by)
	}
	removed := w.must(bob, "message.react", map[string]any{"conversation_id": w.conv, "message_id": r.MessageID, "reaction": ""})
	if ev, v, _ := w.sealedAt(removed.StreamSeq); v != "" {
		t.Errorf("a removed reaction is sealed: %s", ev.Data)
	}
}

// A retried sealed send is answered as the first; its id with other text
// is refused; once its key is erased, the retry is still the duplicate.
func TestSealedRetry(t *testing.T) {
	w := newSealWorld(t)
	id := uuid.NewString()
	body := func(text string) map[string]any {
		return map[string]any{"command_id": id, "conversation_id": w.conv, "text": text}
	}
	first := w.must(alice, "message.send", body("once"))
	again := w.must(alice, "message.send", body("once"))
	if !again.Duplicate || again.EventID != first.EventID || again.StreamSeq != first.StreamSeq {
		t.Fatalf("retry: first %+v, again %+v", first, again)
	}
	w.refused("command_id_reused", alice, "message.send", body("twice"))
	w.must(alice, "account.erase", nil)
	if _, err := w.open(first.StreamSeq); !errors.Is(err, keyring.ErrErased) {
		t.Fatalf("after the erasure the send opens: %v", err)
	}
	erased := w.must(alice, "message.send", body("once"))
	if !erased.Duplicate || erased.EventID != first.EventID {
		t.Fatalf("retry after the erasure: first %+v, again %+v", first, erased)
	}
}

// An unsend erases its message's content and no other's.
func TestUnsendErasesItsMessage(t *testing.T) {
	w := newSealWorld(t)
	gone := w.must(alice, "message.send", map[string]any{"conversation_id": w.conv, "text": "regret"})
	kept := w.send(alice, w.conv, "keep")
	w.must(alice, "message.unsend", map[string]any{"conversation_id": w.conv, "message_id": gone.MessageID})
	if _, err := w.open(gone.StreamSeq); !errors.Is(err, keyring.ErrErased) {
		t.Errorf("the unsent message opens: %v", err)
	}
	if got, err := w.open(kept); err != nil || got != "keep" {
		t.Errorf("its neighbour opens to %q, %v", got, err)
	}
}

// account.erase erases everything the account sealed, in every
// conversation, and nobody else's; it is its event, and a repeat with a new
// command id is another.
func TestAccountEraseErasesItsContent(t *testing.T) {
	w := newSealWorld(t)
	other := w.must(alice, "conversation.start", map[string]any{"participants": []events.Account{carol}}).ConversationID
	mine := []uint64{w.send(alice, w.conv, "a1"), w.send(alice, other, "a2")}
	theirs := w.send(bob, w.conv, "b1")
	r := w.must(alice, "account.erase", nil)
	ev, _ := w.stored(r.StreamSeq)
	d, err := events.DataOf[events.AccountErasedData](ev)
	if ev.Type != events.AccountErased || err != nil || d.Account != alice || r.Account != string(alice) {
		t.Fatalf("erase stored %s %+v (%v), reply %+v", ev.Type, d, err, r)
	}
	for _, seq := range mine {
		if _, err := w.open(seq); !errors.Is(err, keyring.ErrErased) {
			t.Errorf("alice's seq %d opens after her erasure: %v", seq, err)
		}
	}
	if got, err := w.open(theirs); err != nil || got != "b1" {
		t.Errorf("bob's content opens to %q, %v", got, err)
	}
	later := w.send(alice, w.conv, "a3")
	if again := w.must(alice, "account.erase", nil); again.Duplicate || again.StreamSeq <= r.StreamSeq {
		t.Fatalf("a new erasure: %+v", again)
	}
	if _, err := w.open(later); !errors.Is(err, keyring.ErrErased) {
		t.Errorf("what alice sealed after her first erasure survives the second: %v", err)
	}
}
