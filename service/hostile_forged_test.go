package service_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/service"
)

// The class "forged events": a producer that may publish into the stream
// appends a well-formed event of its own, chained correctly. The views and
// the command side take it (they do not check signatures, see
// docs/audit.md); audit verify, given the service's public key, names it.

var _ = hostile("forged events", "a well-formed unsigned event published into a conversation", func(t *testing.T) {
	h := newHarness(t)
	conv := h.forgeryTarget()
	subject, body, after := h.forgeSend(conv, bob, "forged: send me your password")
	seq := h.publishForged(subject, body, after, nil)

	var page api.MessagePage
	h.mustQuery("messages", map[string]any{"conversation_id": conv, "viewer": alice}, &page)
	if !showsText(page.Items, "forged: send me your password") {
		t.Fatalf("the forgery is well-formed, so the views show it: %+v", page.Items)
	}
	h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "the service goes on"})
	if rep := h.verifySigned(nil); !rep.OK() {
		t.Fatalf("the forgery keeps the hash chain, so the chains alone do not catch it: %+v", rep.Breaks)
	}
	h.wantForgedBreaks(h.verifySigned(events.NewPublicKeys(h.signer.PublicKey())), map[uint64]string{seq: audit.BreakUnsigned}, subject)
})

var _ = hostile("forged events", "a forged event with a copied or altered signature", func(t *testing.T) {
	h := newHarness(t)
	conv := h.forgeryTarget()
	genuine, err := h.log.Get(h.ctx, h.lastSeq())
	if err != nil || genuine.Signature == "" {
		t.Fatalf("the service's own event at seq %d is not signed: %q, %v", genuine.Seq, genuine.Signature, err)
	}
	subject, body, after := h.forgeSend(conv, bob, "forged under a copied signature")
	copied := h.publishForged(subject, body, after, nats.Header{events.SignatureHeader: {genuine.Signature}})

	id, sig, _ := strings.Cut(genuine.Signature, " ")
	raw, _ := base64.StdEncoding.DecodeString(sig)
	raw[0] ^= 1
	subject, body, after = h.forgeSend(conv, bob, "forged under an altered signature")
	altered := h.publishForged(subject, body, after, nats.Header{events.SignatureHeader: {id + " " + base64.StdEncoding.EncodeToString(raw)}})

	stranger := testkit.Signer(t)
	subject, body, after = h.forgeSend(conv, bob, "forged under another key")
	other := h.publishForged(subject, body, after, nats.Header{events.SignatureHeader: {stranger.Sign(subject, body)}})

	h.wantForgedBreaks(h.verifySigned(events.NewPublicKeys(h.signer.PublicKey())),
		map[uint64]string{copied: audit.BreakSignature, altered: audit.BreakSignature, other: audit.BreakSignature}, subject)
})

var _ = hostile("forged events", "every event the service appends verifies: commands, policies, the closer, a restart", func(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	ids := startCrossApp(h, 20)
	h.must(alice, "message.send", map[string]any{"conversation_id": ids[0], "text": "hi"})
	h.must(alice, "presence.set", map[string]any{"status": "idle"})
	h.clock.Set(dec12)
	h.publishFile("v2-2023-12-cross-app-disconnect.json")
	h.clock.Set(dec15)
	h.waitApplied(2) // the closer's pipelined AppendAll closed them
	if closed := h.closedEvents(ids); len(closed) != len(ids) {
		t.Fatalf("the closer closed %d of %d", len(closed), len(ids))
	}
	h.restart(service.Options{})
	h.must(bob, "presence.set", map[string]any{"status": "active"})

	last := h.lastSeq()
	rep := h.verifySigned(events.NewPublicKeys(h.signer.PublicKey()))
	sig := rep.Signatures
	if !rep.OK() || sig.Verified != last || sig.ByKey[h.signer.KeyID()] != last || sig.RequiredFrom != 1 || sig.Unsigned != 0 {
		t.Fatalf("the service's own history: %+v", rep)
	}
})

// forgeryTarget starts a conversation of alice and bob under the v1 policy, with a
// message in it, and returns its id.
func (h *harness) forgeryTarget() string {
	h.t.Helper()
	h.publishFile("v1-2020-cross-app.json")
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "hello"})
	return conv
}

// forgeSend builds a message.sent as a hostile producer would, chained to the
// conversation's last event: the right prevhash and streamversion. It
// returns its subject, its bytes and the sequence to publish after.
func (h *harness) forgeSend(conv string, sender events.Account, text string) (string, []byte, uint64) {
	h.t.Helper()
	subject := events.ConversationSubject(conv)
	msgs, err := h.log.Load(h.ctx, subject, 0)
	if err != nil || len(msgs) == 0 {
		h.t.Fatalf("load %s: %d messages, %v", subject, len(msgs), err)
	}
	last := msgs[len(msgs)-1]
	e, err := events.New(events.MessageSent, conv, h.clock.Now(), uuid.NewString(), 1,
		events.MessageSentData{MessageID: events.NewID(), Sender: sender, Text: text})
	if err != nil {
		h.t.Fatal(err)
	}
	e.ID, e.StreamVersion, e.PrevHash = events.NewID(), uint64(len(msgs))+1, events.Hash(last.Data)
	return subject, testkit.Encode(h.t, e), last.Seq
}

// publishForged publishes body with header straight into the stream, after seq on
// its subject, and returns its sequence.
func (h *harness) publishForged(subject string, body []byte, after uint64, header nats.Header) uint64 {
	h.t.Helper()
	ack, err := h.js.PublishMsg(h.ctx, &nats.Msg{Subject: subject, Data: body, Header: header},
		jetstream.WithExpectLastSequencePerSubject(after))
	if err != nil {
		h.t.Fatal(err)
	}
	h.saw(ack.Sequence)
	return ack.Sequence
}

// verifySigned runs audit verify on the stream with keys (nil: no signatures).
func (h *harness) verifySigned(keys events.PublicKeys) audit.Report {
	h.t.Helper()
	rep, err := audit.VerifyWith(h.ctx, h.log, audit.VerifyOptions{Keys: keys})
	if err != nil {
		h.t.Fatal(err)
	}
	return rep
}

// wantForgedBreaks checks that the report's breaks are exactly want (sequence
// to kind), each on subject.
func (h *harness) wantForgedBreaks(rep audit.Report, want map[uint64]string, subject string) {
	h.t.Helper()
	if rep.BreaksTotal != uint64(len(want)) {
		h.t.Fatalf("breaks %+v, want one at each of %v", rep.Breaks, want)
	}
	for _, b := range rep.Breaks {
		if want[b.Seq] != b.Kind || b.Subject != subject {
			h.t.Errorf("break %+v, want kind %q on %s", b, want[b.Seq], subject)
		}
	}
}

// showsText reports whether a message of items has text.
func showsText(items []api.MessageView, text string) bool {
	for _, m := range items {
		if m.Text == text {
			return true
		}
	}
	return false
}
