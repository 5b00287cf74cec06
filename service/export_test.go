package service_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/sealtest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/service"
)

// appendSealed appends a message.sent sealed as the write side will seal
// it (message index leaf, bound to the event) to conv, after its last
// event, and returns the message id.
func (h *harness) appendSealed(keys *sealtest.Trees, conv string, sender events.Account, leaf uint32, text string) string {
	h.t.Helper()
	subject := events.ConversationSubject(conv)
	msgs, err := h.log.Load(h.ctx, subject, 0)
	if err != nil || len(msgs) == 0 {
		h.t.Fatalf("load %s: %d messages, %v", subject, len(msgs), err)
	}
	last, id, msgID := msgs[len(msgs)-1], events.NewID(), events.NewID()
	sealed, err := keys.Seal(sender, conv, leaf, events.MessageSent, id, text)
	if err != nil {
		h.t.Fatal(err)
	}
	e, err := events.New(events.MessageSent, conv, h.clock.Now(), uuid.NewString(), 1,
		events.MessageSentData{MessageID: msgID, Sender: sender, Sealed: sealed})
	if err != nil {
		h.t.Fatal(err)
	}
	e.ID, e.StreamVersion, e.PrevHash = id, uint64(len(msgs))+1, events.Hash(last.Data)
	h.publishForged(subject, testkit.Encode(h.t, e), last.Seq, nil)
	return msgID
}

// sealedConversation is a conversation of alice and bob with a message in
// clear (history from before sealing), one sealed, one sealed whose key
// is gone, and bob's read marker.
func sealedConversation(t *testing.T) (*harness, *sealtest.Trees, string) {
	keys := sealtest.New()
	h := newHarness(t)
	h.restart(service.Options{Opener: keys})
	conv := h.forgeryTarget() // "hello", in clear
	h.appendSealed(keys, conv, alice, 2, "sealed hello")
	h.appendSealed(keys, conv, alice, 3, "lost")
	keys.Puncture(alice, conv, 3, 3)
	last := h.appendSealed(keys, conv, bob, 4, "bob's")
	h.must(bob, "message.read", map[string]any{"conversation_id": conv, "message_id": last})
	return h, keys, conv
}

// The messages query opens the sealed texts of its page with the
// service's Opener, and marks the one whose key is gone.
func TestMessagesQueryOpensSealedTexts(t *testing.T) {
	h, _, conv := sealedConversation(t)
	var page api.MessagePage
	h.mustQuery(api.QueryMessages, map[string]any{"conversation_id": conv, "viewer": string(bob)}, &page)
	var texts []string
	for _, m := range page.Items {
		if m.Erased != nil {
			texts = append(texts, "erased:"+m.Erased.Reason)
		} else {
			texts = append(texts, m.Text)
		}
	}
	if want := []string{"hello", "sealed hello", "erased:" + api.ErasedKey, "bob's"}; !slices.Equal(texts, want) {
		t.Fatalf("texts %q, want %q", texts, want)
	}
}

// The export pages through everything the account wrote and sees, texts
// opened, each item with the policy version it was decided under;
// another participant's read marker is not the account's to see.
func TestExportPagesThroughOpenedItems(t *testing.T) {
	h, _, conv := sealedConversation(t)
	var items []api.ExportItem
	cursor := ""
	for pages := 0; ; pages++ {
		var page api.ExportPage
		h.mustQuery(api.QueryExport, map[string]any{"account": string(alice), "limit": 2, "cursor": cursor}, &page)
		items = append(items, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
		if pages > 10 {
			t.Fatal("the export does not end")
		}
	}
	var got []string
	for _, it := range items {
		if it.ConversationID != conv || it.PolicyVersion != 1 {
			t.Errorf("item %+v", it)
		}
		switch {
		case it.Erased != nil:
			got = append(got, it.Type+" erased:"+it.Erased.Reason)
		default:
			got = append(got, it.Type+" "+string(it.Data))
		}
	}
	for _, want := range []string{`"text":"hello"`, `"text":"sealed hello"`, "erased:" + api.ErasedKey, `"text":"bob's"`} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("no item with %s in %q", want, got)
		}
	}
	for _, s := range got {
		if strings.Contains(s, "s1.") || strings.Contains(s, string(events.MessageRead)) {
			t.Errorf("item %s: a ciphertext, or another's read marker", s)
		}
	}
	if len(items) != 5 { // started, four messages sent, no read marker of bob's
		t.Errorf("%d items: %q", len(items), got)
	}
}
